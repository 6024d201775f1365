"""The staff message log: scoped to the reader's clinics, no text, masked addresses, filters,
pagination and a pinned query count."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.choices import DeliveryStatus, MessageStatus
from notifications.models import OutboxMessage
from notifications.selectors import mask_address, message_log
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LOG = reverse("notifications:message_log")
BODY = "Секретный текст сообщения"


def record(clinic, *, to="+79140001234", channel="sms", status=MessageStatus.SENT, **fields):
    return OutboxMessage.objects.create(
        event="appointment.booked",
        channel=channel,
        clinic=clinic,
        to_address=to,
        body=BODY,
        status=status,
        due_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def messages_ab(clinic_a, clinic_b):
    return {
        "a_delivered": record(clinic_a, delivery_status=DeliveryStatus.DELIVERED),
        "a_failed": record(
            clinic_a, status=MessageStatus.FAILED, last_error="HTTP 500", attempts=5
        ),
        "a_email": record(clinic_a, channel="email", to="anna@example.test"),
        "b_sent": record(clinic_b, to="+79990005566"),
        "network": record(None),
    }


@pytest.mark.parametrize("persona", ["registrar_a", "clinic_admin_a"])
def test_clinic_staff_see_their_clinic_only_without_text_or_address(request, persona, messages_ab):
    response = client_for(request.getfixturevalue(persona)).get(LOG)
    assert response.status_code == 200
    assert BODY not in response.text
    assert "+79140001234" not in response.text and "anna@example.test" not in response.text
    assert "+7•••••34" in response.text and "a•••@example.test" in response.text
    assert "+7•••••66" not in response.text  # clinic B's message
    assert "HTTP 500" in response.text


def test_the_network_admin_sees_every_clinic_and_network_messages(network_admin, messages_ab):
    log = message_log(user=network_admin)
    assert set(log) == set(messages_ab.values())
    response = client_for(network_admin).get(LOG)
    assert "+7•••••66" in response.text


@pytest.mark.parametrize("persona", ["head_nurse_a", "doctor_a", "director", "marketer", "patient"])
def test_other_roles_and_patients_are_refused(request, persona):
    user = request.getfixturevalue(persona)
    assert client_for(getattr(user, "user", user)).get(LOG).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(LOG)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_registrar_of_clinic_b_does_not_see_clinic_a(registrar_b, messages_ab, clinic_a):
    assert list(message_log(user=registrar_b)) == [messages_ab["b_sent"]]
    # Filtering by a clinic outside their scope is a form error, and shows nothing.
    response = client_for(registrar_b).get(f"{LOG}?clinic={clinic_a.pk}")
    assert response.status_code == 200
    assert "+7•••••34" not in response.text and 'class="field-error"' in response.text


def test_states_follow_the_outbox_and_the_delivery_reports(network_admin, messages_ab):
    states = {m.pk: m.state for m in message_log(user=network_admin)}
    assert states[messages_ab["a_delivered"].pk] == "delivered"
    assert states[messages_ab["a_failed"].pk] == "failed"
    assert states[messages_ab["b_sent"].pk] == "sent"
    queued = record(None, status=MessageStatus.PENDING)
    expired = record(None, delivery_status=DeliveryStatus.EXPIRED)
    states = {m.pk: m.state for m in message_log(user=network_admin)}
    assert (states[queued.pk], states[expired.pk]) == ("queued", "expired")


def test_filters_by_status_channel_clinic_and_period(network_admin, messages_ab, clinic_a):
    assert list(message_log(user=network_admin, state="failed")) == [messages_ab["a_failed"]]
    assert list(message_log(user=network_admin, channel="email")) == [messages_ab["a_email"]]
    assert len(message_log(user=network_admin, clinic=clinic_a)) == 3
    old = record(clinic_a)
    OutboxMessage.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    today = timezone.localdate()
    recent = message_log(user=network_admin, date_from=today - datetime.timedelta(days=1))
    assert old not in recent
    assert list(message_log(user=network_admin, date_to=today - datetime.timedelta(days=5))) == [
        old
    ]
    client = client_for(network_admin)
    response = client.get(f"{LOG}?state=failed&channel=sms")
    assert response.status_code == 200 and "HTTP 500" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "state=lost",
        "channel=fax",
        "date_from=2026-13-01",
        "date_from=2026-05-02&date_to=2026-05-01",
    ],
)
def test_bad_filters_show_an_error_and_nothing(network_admin, messages_ab, query):
    response = client_for(network_admin).get(f"{LOG}?{query}")
    assert response.status_code == 200
    assert 'class="field-error"' in response.text
    assert "•••" not in response.text


def test_the_log_pages_and_its_query_count_does_not_grow(
    network_admin, clinic_a, django_assert_num_queries
):
    client = client_for(network_admin)
    client.get(LOG)  # session and memberships warm
    for _ in range(3):
        record(clinic_a)
    with django_assert_num_queries(8) as small:
        client.get(LOG)
    for _ in range(60):
        record(clinic_a)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(LOG)
    assert "page=2" in response.text
    assert client.get(f"{LOG}?page=2").status_code == 200
    assert client.get(f"{LOG}?page=abc").status_code == 200


def test_addresses_are_masked():
    assert mask_address("+79140001234") == "+7•••••34"
    assert mask_address("anna@example.test") == "a•••@example.test"
    assert mask_address("123") == "•••"
