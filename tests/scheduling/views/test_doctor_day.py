"""The doctor's day: their own visits across clinics in each clinic's time, completing a visit,
the note for the patient (shown only when the doctor says so), and leave requests."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal.choices import Role
from portal.models import AuditEvent
from scheduling.choices import AppointmentEventKind, AppointmentStatus, LeaveStatus
from scheduling.models import AppointmentEvent, LeaveRequest, VisitSummary
from scheduling.selectors.availability import free_slots
from scheduling.selectors.documents import document_context
from scheduling.services.booking import appointment_book
from tests.conftest import client_for
from tests.factories import (
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    StaffMembershipFactory,
    make_staff,
    make_weekly_schedule,
)

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)
S = AppointmentStatus


@pytest.fixture
def my_doctor(doctor, doctor_a):
    """The scheduling suites' doctor (clinic A, 09:00–13:00 daily), signed in as doctor_a."""
    doctor.user = doctor_a
    doctor.save(update_fields=["user"])
    return doctor


def book(doctor, service, patient, day=TUE, index=0, actor=None):
    slot = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[index]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone" if actor else "online",
        actor=actor or patient.user,
    )


@pytest.fixture
def visit(clock, my_doctor, service, patient):
    return book(my_doctor, service, patient)


@pytest.fixture
def on_the_day(clock, visit):
    """The clock at the visit's start (Tuesday 09:00 in Irkutsk)."""
    clock.now = visit.starts_at
    return visit


def day_url(day=TUE, view=None):
    query = f"?date={day.isoformat()}" + (f"&view={view}" if view else "")
    return reverse("scheduling:doctor_day") + query


def complete_url(appointment):
    return reverse("scheduling:doctor_visit_complete", args=[appointment.public_id])


def note_url(appointment):
    return reverse("scheduling:doctor_visit_note", args=[appointment.public_id])


# --- The day and the week ----------------------------------------------------------------------


def test_the_doctor_sees_their_day_in_the_clinic_time_with_a_link_to_the_card(
    visit, doctor_a, patient
):
    page = client_for(doctor_a).get(day_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "09:00–09:30" in html  # Irkutsk wall-clock time
    assert patient.full_name in html
    assert reverse("portal:patient_card", args=[patient.public_id]) in html
    assert "09:00–13:00" in html  # the working hours from the schedule
    assert 'class="badge badge-muted"' in html  # booked
    assert "UTC+8" not in html  # one clinic: its zone is the reader's own


def test_the_week_lists_every_clinic_and_names_a_zone_that_is_not_the_readers(
    clock, my_doctor, service, patient, other_patient, doctor_a, clinic_b
):
    """Working in Irkutsk and Moscow, the doctor reads in the network's zone (Moscow): the
    Irkutsk times are labelled with the city and offset, the Moscow ones are not."""
    StaffMembershipFactory(user=doctor_a, role=Role.DOCTOR, clinic=clinic_b)
    my_doctor.clinics.add(clinic_b)
    make_weekly_schedule(my_doctor, clinic_b, start=datetime.time(15), end=datetime.time(18))
    book(my_doctor, service, patient, day=TUE)
    moscow = [
        s
        for s in free_slots(service=service, doctor=my_doctor, start_date=WED, end_date=WED)
        if s.start.astimezone(clinic_b.tz).hour == 15
    ][0]
    appointment_book(
        patient=other_patient,
        doctor=my_doctor,
        service=service,
        start=moscow.start,
        channel="online",
        actor=other_patient.user,
    )
    html = client_for(doctor_a).get(day_url(view="week")).content.decode()
    assert clinic_b.name in html and "Медфронт Центр" in html
    assert "15:00–15:30" in html  # Moscow time, no label needed
    assert "Иркутск, UTC+8" in html
    assert "Москва, UTC+3" not in html
    assert html.count('class="agenda-day') == 7


def test_a_malformed_date_shows_today_rather_than_failing(visit, doctor_a):
    for value in ("yesterday", "2027-02-30", "99999-01-01", ""):
        assert (
            client_for(doctor_a).get(f"{reverse('scheduling:doctor_day')}?date={value}").status_code
            == 200
        )


def test_a_fixed_number_of_queries_however_many_visits(
    clock, my_doctor, service, doctor_a, registrar_a, django_assert_num_queries
):
    client = client_for(doctor_a)
    book(my_doctor, service, PatientFactory(), actor=registrar_a)
    client.get(day_url())  # warm the session
    with django_assert_num_queries(QUERIES):
        assert client.get(day_url(view="week")).status_code == 200
    for _ in range(6):
        book(my_doctor, service, PatientFactory(), actor=registrar_a)
    with django_assert_num_queries(QUERIES):
        page = client.get(day_url(view="week"))
    assert page.content.decode().count('<td><div class="agenda-actions">') == 7


# Session, user, memberships, the MFA check, the doctor, the visits, the engine's three
# schedule reads, pending requests, and the navigation's patient-profile check. (A clinic with
# hours but no visits in the period would add one read of clinics.)
QUERIES = 11


# --- Who may open it ---------------------------------------------------------------------------


def test_patients_and_other_staff_are_refused(visit, patient, registrar_b, registrar_a):
    for user in (patient.user, registrar_a, registrar_b):
        assert client_for(user).get(day_url()).status_code == 403
    assert Client().get(day_url()).status_code == 302


def test_a_doctor_without_a_profile_is_told_so(doctor_a):
    page = client_for(doctor_a).get(day_url())
    assert page.status_code == 200 and "agenda-day" not in page.content.decode()


def test_another_doctor_gets_404_for_this_doctors_visits(on_the_day, clinic_a, service):
    other = make_staff(Role.DOCTOR, clinic_a, email="doctor-2@example.test")
    DoctorFactory(user=other, services=[service], clinics=[clinic_a])
    client = client_for(other)
    assert client.post(complete_url(on_the_day)).status_code == 404
    assert client.get(note_url(on_the_day)).status_code == 404
    assert client.post(note_url(on_the_day), {"text": "x"}).status_code == 404
    assert "09:00–09:30" not in client.get(day_url()).content.decode()
    on_the_day.refresh_from_db()
    assert on_the_day.status == S.BOOKED


def test_the_doctor_opens_the_card_of_a_booked_patient_and_it_is_audited(visit, doctor_a, patient):
    assert (
        client_for(doctor_a)
        .get(reverse("portal:patient_card", args=[patient.public_id]))
        .status_code
        == 200
    )
    views = AuditEvent.objects.filter(actor_id=doctor_a.pk, action="view")
    assert any(str(patient.public_id) in event.patient_ids for event in views)


# --- Completing a visit ------------------------------------------------------------------------


def test_completing_twice_changes_the_visit_once(on_the_day, doctor_a):
    client = client_for(doctor_a)
    for _ in range(2):
        answer = client.post(complete_url(on_the_day))
        assert answer.status_code == 302 and "date=2027-03-02" in answer["Location"]
    on_the_day.refresh_from_db()
    assert on_the_day.status == S.COMPLETED
    kinds = list(
        AppointmentEvent.objects.filter(appointment=on_the_day).values_list("kind", flat=True)
    )
    assert kinds.count(AppointmentEventKind.COMPLETED) == 1
    assert kinds.count(AppointmentEventKind.CHECKED_IN) == 1


def test_completing_needs_a_post_with_the_csrf_token(on_the_day, doctor_a):
    assert client_for(doctor_a).get(complete_url(on_the_day)).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client_for(doctor_a).cookies
    assert strict.post(complete_url(on_the_day)).status_code == 403
    on_the_day.refresh_from_db()
    assert on_the_day.status == S.BOOKED


def test_a_visit_of_a_later_day_is_not_completed(visit, doctor_a):
    answer = client_for(doctor_a).post(complete_url(visit), follow=True)
    assert answer.status_code == 200
    visit.refresh_from_db()
    assert visit.status == S.BOOKED
    assert "flash-error" in answer.content.decode()


# --- The note for the patient ------------------------------------------------------------------


def test_no_note_before_the_patient_came(visit, doctor_a):
    answer = client_for(doctor_a).post(
        note_url(visit), {"text": "Покой", "visible_to_patient": "on"}
    )
    assert answer.status_code == 200 and "form-alert" in answer.content.decode()
    assert not VisitSummary.objects.exists()


def test_the_patient_sees_the_note_only_once_it_is_made_visible(
    on_the_day, doctor_a, patient, other_patient
):
    doctor = client_for(doctor_a)
    doctor.post(complete_url(on_the_day))
    text = "Рекомендован покой три дня."
    assert doctor.post(note_url(on_the_day), {"text": text}).status_code == 302
    visit_page = reverse("scheduling:visit", args=[on_the_day.public_id])
    owner = client_for(patient.user)
    assert text not in owner.get(visit_page).content.decode()
    assert document_context(on_the_day, "summary")["summary"] is None

    answer = doctor.post(note_url(on_the_day), {"text": text, "visible_to_patient": "on"})
    assert answer.status_code == 302
    assert text in owner.get(visit_page).content.decode()
    assert document_context(on_the_day, "summary")["summary"].text == text
    assert client_for(other_patient.user).get(visit_page).status_code == 404
    # The doctor's form shows what was written.
    assert text in doctor.get(note_url(on_the_day)).content.decode()

    events = AuditEvent.objects.filter(object_type="scheduling.visitsummary")
    assert [e.action for e in events.order_by("pk")] == ["create", "update"]
    assert all(str(patient.public_id) in e.patient_ids for e in events)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM scheduling_visitsummary")
        (stored,) = cursor.fetchone()
    assert text not in stored


def test_an_empty_or_overlong_note_changes_nothing(on_the_day, doctor_a):
    client = client_for(doctor_a)
    client.post(complete_url(on_the_day))
    for text in ("   ", "я" * 4001):
        answer = client.post(note_url(on_the_day), {"text": text})
        assert answer.status_code == 200 and "field-error" in answer.content.decode()
    assert not VisitSummary.objects.exists()


# --- Leave requests ----------------------------------------------------------------------------


def test_the_doctor_asks_for_a_day_off_and_sees_it_pending(clock, my_doctor, doctor_a, clinic_a):
    client = client_for(doctor_a)
    leave = reverse("scheduling:doctor_leave")
    answer = client.post(
        leave,
        {
            "kind": "day_off",
            "date_from": "2027-03-10",
            "date_to": "2027-03-11",
            "clinic": str(clinic_a.public_id),
            "note": "Семейные обстоятельства",
        },
    )
    assert answer.status_code == 302
    request = LeaveRequest.objects.get()
    assert (request.doctor, request.status, request.clinic) == (
        my_doctor,
        LeaveStatus.PENDING,
        clinic_a,
    )
    assert "10" in client.get(leave).content.decode()
    assert "pending-list" in client.get(day_url()).content.decode()
    assert AuditEvent.objects.filter(object_type="scheduling.leaverequest").count() == 1


def test_a_substitution_names_only_a_colleague_of_the_clinics(
    clock, my_doctor, doctor_a, clinic_a, clinic_b, service
):
    colleague = DoctorFactory(services=[service], clinics=[clinic_a])
    stranger = DoctorFactory(services=[service], clinics=[clinic_b])
    client = client_for(doctor_a)
    leave = reverse("scheduling:doctor_leave")
    data = {"kind": "substitution", "date_from": "2027-03-10", "date_to": "2027-03-10"}
    answer = client.post(leave, data | {"substitute": str(stranger.public_id)})
    assert answer.status_code == 200 and not LeaveRequest.objects.exists()
    # Someone of another specialty is not offered either.
    dentist = DoctorFactory(services=[ServiceFactory()], clinics=[clinic_a])
    form = client.get(leave).content.decode()
    assert str(colleague.public_id) in form and str(dentist.public_id) not in form
    assert client.post(leave, data | {"substitute": str(dentist.public_id)}).status_code == 200
    assert client.post(leave, data | {"substitute": str(colleague.public_id)}).status_code == 302
    assert LeaveRequest.objects.get().substitute == colleague


def test_a_substitute_must_work_in_every_clinic_the_request_concerns(
    clock, my_doctor, doctor_a, clinic_a, clinic_b, service
):
    my_doctor.clinics.add(clinic_b)
    only_a = DoctorFactory(services=[service], clinics=[clinic_a])
    client = client_for(doctor_a)
    leave = reverse("scheduling:doctor_leave")
    data = {"kind": "substitution", "date_from": "2027-03-10", "date_to": "2027-03-10"}
    everywhere = client.post(leave, data | {"substitute": str(only_a.public_id)})
    assert everywhere.status_code == 200 and "field-error" in everywhere.content.decode()
    assert not LeaveRequest.objects.exists()
    here = data | {"substitute": str(only_a.public_id), "clinic": str(clinic_a.public_id)}
    assert client.post(leave, here).status_code == 302


def test_bad_dates_are_refused_with_a_message(clock, my_doctor, doctor_a):
    leave = reverse("scheduling:doctor_leave")
    client = client_for(doctor_a)
    for first, last in (("2027-03-10", "2027-03-09"), ("2027-02-01", "2027-02-02"), ("x", "y")):
        answer = client.post(leave, {"kind": "day_off", "date_from": first, "date_to": last})
        assert answer.status_code == 200 and "field-error" in answer.content.decode()
    assert not LeaveRequest.objects.exists()


def test_the_doctors_home_and_navigation_link_to_the_day(my_doctor, doctor_a):
    html = client_for(doctor_a).get(reverse("portal:home")).content.decode()
    assert html.count(f'href="{reverse("scheduling:doctor_day")}"') >= 2
