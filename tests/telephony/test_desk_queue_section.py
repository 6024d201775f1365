"""The callback queue's section on the desk's queues page: shown to those who answer the
clinic's lines, with another clinic's callbacks left out."""

import pytest

from portal.choices import AuditAction, Role
from portal.models import AuditEvent
from telephony.models import CallbackRequest
from telephony.selectors import calls as call_selectors
from tests.conftest import client_for
from tests.factories import PatientFactory, StaffMembershipFactory
from tests.telephony.conftest import CALLER, generic_event, post_generic

pytestmark = pytest.mark.django_db
QUEUES = "/desk/queues/"
EN = {"Accept-Language": "en"}


def miss(client, account, call_id="c-1", caller=CALLER):
    post_generic(client, account, generic_event(call_id, "ringing", caller=caller))
    post_generic(client, account, generic_event(call_id, "ended"))


def test_the_queues_page_lists_missed_callers_to_ring_back(
    webhook_client, generic_account, line_a, registrar_a, registrar_b
):
    patient = PatientFactory(phone=CALLER, last_name="Петрова", first_name="Ольга")
    miss(webhook_client, generic_account)
    callback = CallbackRequest.objects.get()
    html = client_for(registrar_a).get(QUEUES, headers=EN).content.decode()
    assert "Ring back" in html and "Петрова Ольга" in html and "1 missed call<" in html
    assert f"/telephony/callbacks/{callback.public_id}/done/" in html
    assert "/telephony/calls/" in html
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, actor_id=registrar_a.pk)
    assert str(patient.public_id) in str(listed.last().patient_ids)
    other = client_for(registrar_b).get(QUEUES, headers=EN).content.decode()
    assert "Петрова" not in other and "Nobody to ring back" in other


def test_a_long_queue_shows_the_most_urgent_and_counts_all(
    webhook_client, generic_account, line_a, registrar_a, monkeypatch
):
    monkeypatch.setattr(call_selectors, "QUEUE_CALLBACK_LIMIT", 2)
    for n in range(3):
        miss(webhook_client, generic_account, call_id=f"c-{n}", caller=f"+7914555000{n}")
    queue = call_selectors.open_callbacks(user=registrar_a)
    assert len(queue.rows) == 2 and queue.total == 3


def test_a_callback_is_due_in_its_clinic_time_with_the_zone_named(
    webhook_client, generic_account, line_a, registrar_a, clinic_b
):
    # Registrar of two clinics: the page's own zone is Moscow, the line rings in Irkutsk.
    StaffMembershipFactory(user=registrar_a, role=Role.REGISTRAR, clinic=clinic_b)
    miss(webhook_client, generic_account)
    callback = CallbackRequest.objects.get()
    irkutsk = callback.due_at.astimezone(callback.clinic.tz).strftime("%H:%M")
    moscow = callback.due_at.astimezone(clinic_b.tz).strftime("%H:%M")
    client = client_for(registrar_a)
    for url in (QUEUES, "/telephony/calls/"):
        html = client.get(url, headers=EN).content.decode()
        assert f'<td class="nowrap">{irkutsk}<br>' in html and moscow not in html
        assert "Иркутск time, UTC+8" in html


def test_the_board_strip_counts_the_callers_to_ring_back(
    webhook_client, generic_account, line_a, registrar_a, registrar_b, clinic_a, clinic_b
):
    board = f"/desk/?clinic={clinic_a.public_id}"
    quiet = client_for(registrar_a).get(board, headers=EN).content.decode()
    assert "nothing to rebook" in quiet and "nobody to ring back" in quiet
    for n in range(2):
        miss(webhook_client, generic_account, call_id=f"c-{n}", caller=f"+7914555000{n}")
    html = client_for(registrar_a).get(board, headers=EN).content.decode()
    assert "2 callers to ring back" in html and "/desk/queues/#callbacks" in html
    other = client_for(registrar_b).get(f"/desk/?clinic={clinic_b.public_id}", headers=EN)
    assert "callers to ring back" not in other.content.decode()
