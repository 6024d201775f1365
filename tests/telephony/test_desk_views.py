"""The caller panel, the calls page and the new-caller hand-over: who sees what, and what a
poll costs."""

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.choices import AuditAction, Role
from portal.models import AuditEvent
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from telephony.models import Call, CallbackRequest, TelephonyLine
from tests.conftest import client_for
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    make_staff,
    make_weekly_schedule,
)
from tests.telephony.conftest import CALLER, generic_event, post_generic

pytestmark = pytest.mark.django_db
PANEL = "/telephony/desk/caller/"
CALLS = "/telephony/calls/"
EN = {"Accept-Language": "en"}


def ring(client, account, call_id="c-1", **fields):
    response = post_generic(client, account, generic_event(call_id, "ringing", **fields))
    assert response.status_code == 200, response.content
    return Call.objects.get(provider_call_id=call_id)


def book_tomorrow(patient, clinic, actor):
    service = ServiceFactory()
    doctor = DoctorFactory(services=[service], clinics=[clinic])
    make_weekly_schedule(doctor, clinic, start=datetime.time(0), end=datetime.time(23, 30))
    day = timezone.localdate() + datetime.timedelta(days=2)
    slot = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[0]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=actor,
    )


@pytest.fixture
def caller(registrar_a, clinic_a):
    patient = PatientFactory(
        phone=CALLER, last_name="Петрова", first_name="Ольга", birth_date=datetime.date(1990, 1, 1)
    )
    book_tomorrow(patient, clinic_a, registrar_a)
    return patient


def test_the_registrar_on_the_line_sees_the_callers_card(
    webhook_client, generic_account, line_a, registrar_a, caller
):
    ring(webhook_client, generic_account)
    response = client_for(registrar_a).get(PANEL, headers={"HX-Request": "true", **EN})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Петрова Ольга" in html
    age = (
        timezone.localdate().year
        - 1990
        - (timezone.localdate() < datetime.date(timezone.localdate().year, 1, 1))
    )
    assert f"{age} years" in html
    assert "1 upcoming visit" in html
    assert f"/staff/patients/{caller.public_id}/" in html
    assert "Ringing" in html and "Reception" in html


def test_nothing_rings_once_the_call_ended(webhook_client, generic_account, line_a, registrar_a):
    ring(webhook_client, generic_account)
    post_generic(webhook_client, generic_account, generic_event("c-1", "ended"))
    html = client_for(registrar_a).get(PANEL, headers=EN).content.decode()
    assert "No call right now" in html


def test_a_line_with_answerers_rings_only_them_and_an_answer_only_the_answerer(
    webhook_client, generic_account, line_a, registrar_a, clinic_a
):
    colleague = make_staff(Role.REGISTRAR, clinic_a, email="colleague@example.test")
    ring(webhook_client, generic_account)
    assert "Ringing" in client_for(registrar_a).get(PANEL, headers=EN).content.decode()
    assert "No call right now" in client_for(colleague).get(PANEL, headers=EN).content.decode()
    # A line naming nobody rings the whole clinic until someone answers.
    line_a.answerer_links.all().delete()
    assert "Ringing" in client_for(colleague).get(PANEL, headers=EN).content.decode()
    post_generic(webhook_client, generic_account, generic_event("c-1", "answered", extension="101"))
    Call.objects.filter(provider_call_id="c-1").update(answered_by=registrar_a)
    assert "Answered" in client_for(registrar_a).get(PANEL, headers=EN).content.decode()
    assert "No call right now" in client_for(colleague).get(PANEL, headers=EN).content.decode()


def test_staff_of_another_clinic_never_see_the_call_or_its_caller(
    webhook_client, generic_account, line_a, registrar_b, caller
):
    call = ring(webhook_client, generic_account)
    line_a.answerer_links.all().delete()
    client = client_for(registrar_b)
    html = client.get(PANEL, headers=EN).content.decode()
    assert "No call right now" in html and "Петрова" not in html
    assert client.post(f"/telephony/calls/{call.public_id}/new-patient/").status_code == 404
    assert "Петрова" not in client.get(CALLS).content.decode()


@pytest.mark.parametrize("persona", ["patient", "doctor_a", "head_nurse_a", "marketer", "director"])
def test_others_are_refused_the_panel_and_the_calls_page(
    request, webhook_client, generic_account, line_a, persona
):
    call = ring(webhook_client, generic_account)
    user = request.getfixturevalue(persona)
    client = client_for(getattr(user, "user", user))
    assert client.get(PANEL).status_code == 403
    assert client.get(CALLS).status_code == 403
    assert client.post(f"/telephony/calls/{call.public_id}/new-patient/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(PANEL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_network_and_clinic_admins_answer_too(
    webhook_client, generic_account, line_a, network_admin, clinic_admin_a
):
    line_a.answerer_links.all().delete()
    ring(webhook_client, generic_account)
    for user in (network_admin, clinic_admin_a):
        assert "Ringing" in client_for(user).get(PANEL, headers=EN).content.decode()


def test_a_new_caller_is_registered_with_the_number_carried_in_the_session(
    webhook_client, generic_account, line_a, registrar_a
):
    call = ring(webhook_client, generic_account, caller="+79145550000")
    client = client_for(registrar_a)
    html = client.get(PANEL, headers=EN).content.decode()
    assert "New caller" in html
    assert f"/telephony/calls/{call.public_id}/new-patient/" in html
    response = client.post(f"/telephony/calls/{call.public_id}/new-patient/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/patients/new/"
    form = client.get(response["Location"]).content.decode()
    assert 'value="+79145550000"' in form
    # Taken once: the next blank form is blank.
    assert "+79145550000" not in client.get("/staff/patients/new/").content.decode()


def test_a_poll_costs_the_same_queries_however_many_patients_visits_and_calls(
    webhook_client, generic_account, line_a, registrar_a, caller, clinic_a
):
    ring(webhook_client, generic_account)
    client = client_for(registrar_a)
    client.get(PANEL)  # the first poll records the audit event of the read

    def poll_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(PANEL).status_code == 200
        return len(ctx.captured_queries)

    before = poll_queries()
    for _ in range(3):
        relative = PatientFactory(phone=CALLER)
        book_tomorrow(relative, clinic_a, registrar_a)
    for index in range(5):
        post_generic(
            webhook_client,
            generic_account,
            generic_event(f"old-{index}", "ringing", caller=f"+7914555000{index}"),
        )
        post_generic(webhook_client, generic_account, generic_event(f"old-{index}", "ended"))
    assert poll_queries() == before
    assert before <= 12


def test_showing_a_caller_is_audited_once_per_call_and_registrar(
    webhook_client, generic_account, line_a, registrar_a, caller
):
    ring(webhook_client, generic_account)
    client = client_for(registrar_a)
    for _ in range(3):
        client.get(PANEL)
    events = AuditEvent.objects.filter(action=AuditAction.SEARCH, actor_id=registrar_a.pk)
    assert events.count() == 1
    assert str(caller.public_id) in str(events.get().patient_ids)


def test_the_calls_page_lists_callbacks_and_todays_calls_and_marks_one_done(
    webhook_client, generic_account, line_a, registrar_a, registrar_b, caller
):
    ring(webhook_client, generic_account)
    post_generic(webhook_client, generic_account, generic_event("c-1", "ended"))
    ring(webhook_client, generic_account, call_id="c-2", caller="+79145550000")
    post_generic(webhook_client, generic_account, generic_event("c-2", "answered"))
    callback = CallbackRequest.objects.get()
    client = client_for(registrar_a)
    html = client.get(CALLS, headers=EN).content.decode()
    assert "Петрова Ольга" in html and "Ring back" in html
    assert f"/telephony/callbacks/{callback.public_id}/done/" in html
    assert "Missed" in html
    # Another clinic's registrar cannot close it.
    other = client_for(registrar_b)
    assert other.post(f"/telephony/callbacks/{callback.public_id}/done/").status_code == 404
    response = client.post(f"/telephony/callbacks/{callback.public_id}/done/")
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.done_at is not None and callback.done_by == registrar_a
    assert "Nobody to ring back" in client.get(CALLS, headers=EN).content.decode()


def test_an_inactive_line_rings_nobody(webhook_client, generic_account, line_a, registrar_a):
    ring(webhook_client, generic_account)
    TelephonyLine.objects.update(is_active=False)
    assert "No call right now" in client_for(registrar_a).get(PANEL, headers=EN).content.decode()


def test_unknown_ids_are_a_404(registrar_a, line_a):
    client = client_for(registrar_a)
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.post(f"/telephony/callbacks/{missing}/done/").status_code == 404
    assert client.post(f"/telephony/calls/{missing}/new-patient/").status_code == 404


def test_a_ring_whose_end_was_lost_leaves_the_panel(
    webhook_client, generic_account, line_a, registrar_a
):
    old = int(time.time()) - 11 * 60
    post_generic(webhook_client, generic_account, generic_event("c-1", "ringing", time=old))
    assert Call.objects.get().state == "ringing"
    assert "No call right now" in client_for(registrar_a).get(PANEL, headers=EN).content.decode()


def test_the_panels_poll_keeps_no_unattended_session_alive(registrar_a, line_a):
    from portal.middleware import BACKGROUND_HEADER, StaffIdleTimeoutMiddleware

    client = client_for(registrar_a)
    assert BACKGROUND_HEADER in client.get(CALLS).content.decode()
    session = client.session
    last_seen = time.time() - 120
    session[StaffIdleTimeoutMiddleware.SESSION_KEY] = last_seen
    session.save()
    assert client.get(PANEL, headers={BACKGROUND_HEADER: "1"}).status_code == 200
    assert client.session[StaffIdleTimeoutMiddleware.SESSION_KEY] == last_seen


def test_a_poll_after_sign_out_sends_the_page_to_sign_in(client):
    response = client.get(PANEL, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
