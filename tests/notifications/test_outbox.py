import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.choices import MessageStatus
from notifications.dispatch import outbox_claim_next, outbox_purge_older_than, outbox_send
from notifications.models import OutboxMessage
from notifications.senders import SendError
from notifications.services import NoAddress, outbox_enqueue, outbox_message, outbox_record

pytestmark = pytest.mark.django_db


class FailingSender:
    name = "failing"

    def send(self, message):
        raise SendError("provider unavailable")


def test_a_due_message_is_sent_on_commit_with_eager_celery(
    patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox_enqueue(
            event="test.hello", channel="sms", patient=patient, context={"text": "Привет"}
        )
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.to_address == patient.phone
    assert message.body == "Привет"


def test_messages_of_one_change_are_recorded_together_and_sent_on_commit(
    patient, django_capture_on_commit_callbacks
):
    messages = [
        outbox_message(event="test.both", channel=channel, patient=patient, context={"text": "Да"})
        for channel in ("sms", "email")
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        recorded = outbox_record(messages=messages)
    assert len(callbacks) == 2  # registered per message, publishing once (see the wake)
    assert {m.channel for m in recorded} == {"sms", "email"}
    sent = OutboxMessage.objects.filter(event="test.both")
    assert sorted(sent.values_list("status", flat=True)) == [MessageStatus.SENT] * 2


def test_a_message_with_an_idempotency_key_is_not_recorded_in_bulk(patient):
    keyed = outbox_message(
        event="test.keyed", channel="sms", patient=patient, context={}, idempotency_key="k-1"
    )
    with pytest.raises(ValueError, match="idempotency key"):
        outbox_record(messages=[keyed])
    assert not OutboxMessage.objects.filter(event="test.keyed").exists()


def test_it_takes_the_address_for_the_channel_from_the_profile(patient):
    sms = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    email = outbox_enqueue(event="e", channel="email", patient=patient, context={})
    assert sms.to_address == patient.phone
    assert email.to_address == patient.email


def test_it_refuses_a_recipient_without_an_address(patient):
    patient.email = ""
    with pytest.raises(NoAddress):
        outbox_enqueue(event="e", channel="email", patient=patient, context={})
    assert not OutboxMessage.objects.exists()


def test_it_refuses_an_unknown_channel(patient):
    with pytest.raises(ValueError, match="unknown channel"):
        outbox_enqueue(event="e", channel="pigeon", patient=patient, context={})


def test_a_repeated_idempotency_key_returns_the_first_message(patient):
    first = outbox_enqueue(
        event="e", channel="sms", patient=patient, context={}, idempotency_key="k1"
    )
    second = outbox_enqueue(
        event="e", channel="sms", patient=patient, context={}, idempotency_key="k1"
    )
    assert first.pk == second.pk
    assert OutboxMessage.objects.count() == 1


def test_the_database_keeps_a_set_idempotency_key_unique_and_lets_unset_ones_repeat(patient):
    from django.db import IntegrityError, transaction

    for _ in range(2):
        outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    outbox_enqueue(event="e", channel="sms", patient=patient, context={}, idempotency_key="k2")
    with pytest.raises(IntegrityError), transaction.atomic():
        outbox_enqueue(
            event="e",
            channel="sms",
            patient=patient,
            context={},
            idempotency_key="k2",
            key_is_new=True,  # skips the lookup: the database must refuse it itself
        )
    assert OutboxMessage.objects.filter(idempotency_key__isnull=True).count() == 2
    assert OutboxMessage.objects.filter(idempotency_key="k2").count() == 1


def test_future_messages_are_not_claimed_before_they_are_due(patient):
    later = timezone.now() + datetime.timedelta(hours=2)
    outbox_enqueue(event="e", channel="sms", patient=patient, context={}, due_at=later)
    assert outbox_claim_next() is None


def test_a_failed_send_is_retried_later_then_marked_failed(patient):
    message = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    message.max_attempts = 2
    message.save(update_fields=["max_attempts"])
    with override_settings(NOTIFICATION_SENDERS={"sms": f"{__name__}.FailingSender"}):
        assert outbox_claim_next() == message
        outbox_send(message_id=message.pk)
        message.refresh_from_db()
        assert message.status == MessageStatus.PENDING
        assert message.due_at > timezone.now()
        assert message.last_error == "provider unavailable"
        OutboxMessage.objects.filter(pk=message.pk).update(due_at=timezone.now())
        assert outbox_claim_next() == message
        outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 2


def test_the_context_and_address_are_encrypted_at_rest(patient):
    from django.db import connection

    outbox_enqueue(event="e", channel="sms", patient=patient, context={"code": "834211"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_address, context FROM notifications_outboxmessage")
        to_address, context = cursor.fetchone()
    assert patient.phone not in to_address
    assert "834211" not in context


def test_old_finished_messages_are_purged_and_those_in_flight_kept(patient):
    long_ago = timezone.now() - datetime.timedelta(days=400)
    kept = {}
    for status in MessageStatus.values:
        message = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
        OutboxMessage.objects.filter(pk=message.pk).update(status=status, created_at=long_ago)
        kept[status] = message.pk
    recent = outbox_enqueue(event="e", channel="sms", patient=patient, context={})
    OutboxMessage.objects.filter(pk=recent.pk).update(status=MessageStatus.SENT)
    assert outbox_purge_older_than(days=180) == 3
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {
        kept[MessageStatus.PENDING],
        kept[MessageStatus.SENDING],
        recent.pk,
    }


class TestOutboxPage:
    url = "/notifications/outbox/"

    @override_settings(DEV_OUTBOX_ENABLED=True)
    def test_network_admin_sees_the_development_outbox(self, as_user, network_admin, patient):
        outbox_enqueue(event="auth.login_code", channel="sms", patient=patient, context={})
        response = as_user(network_admin).get(self.url)
        assert response.status_code == 200
        assert "auth.login_code" in response.content.decode()

    @override_settings(DEV_OUTBOX_ENABLED=True)
    @pytest.mark.parametrize("persona", ["registrar_a", "director", "marketer", "patient"])
    def test_other_roles_are_refused(self, as_user, persona, request):
        user = request.getfixturevalue(persona)
        user = getattr(user, "user", user)
        assert as_user(user).get(self.url).status_code == 403

    @override_settings(DEV_OUTBOX_ENABLED=True)
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(self.url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    @override_settings(DEV_OUTBOX_ENABLED=False)
    def test_it_does_not_exist_when_disabled(self, as_user, network_admin):
        assert as_user(network_admin).get(self.url).status_code == 404


@pytest.mark.parametrize(("enabled", "shown"), [(True, True), (False, False)])
def test_the_outbox_link_appears_only_when_the_page_exists(as_user, network_admin, enabled, shown):
    with override_settings(DEV_OUTBOX_ENABLED=enabled):
        page = as_user(network_admin).get("/home/").content.decode()
    assert ('href="/notifications/outbox/"' in page) is shown
