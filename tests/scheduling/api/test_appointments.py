"""Holds and appointments over the API: booking end-to-end, permission matrix, actions,
Idempotency-Key, bad input. Every refusal is a 4xx problem and changes nothing."""

import datetime

import pytest
from django.utils import timezone

from scheduling.models import Appointment, Hold
from tests.scheduling.api.conftest import at

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointments/"


def book_body(service, doctor, start, **extra):
    return {
        "service": str(service.public_id),
        "doctor": str(doctor.public_id),
        "start": start.isoformat(),
        **extra,
    }


@pytest.fixture
def slot_start(clinic_a, tomorrow_a, doctor):
    return at(clinic_a, tomorrow_a, 10)


@pytest.fixture
def booked(api_as, patient, service, doctor, slot_start):
    response = api_as(patient.user).post(URL, book_body(service, doctor, slot_start), format="json")
    assert response.status_code == 201, response.json()
    return Appointment.objects.get(public_id=response.json()["id"])


# --- Booking ---------------------------------------------------------------------------------


def test_a_patient_books_for_themself_online(
    api_as, patient, service, doctor, slot_start, clinic_a
):
    response = api_as(patient.user).post(URL, book_body(service, doctor, slot_start), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["patient"] == str(patient.public_id)
    assert body["doctor"] == str(doctor.public_id)
    assert body["clinic"] == str(clinic_a.public_id)
    assert body["service"] == str(service.public_id)
    assert body["status"] == "booked"
    assert body["channel"] == "online"
    assert body["start"] == slot_start.isoformat()
    assert body["start"].endswith("+08:00")
    assert body["price"] == "2500.00"


def test_a_patient_books_for_their_dependant(
    api_as, patient, dependant, service, doctor, slot_start
):
    data = book_body(service, doctor, slot_start, patient=str(dependant.public_id))
    response = api_as(patient.user).post(URL, data, format="json")
    assert response.status_code == 201
    assert response.json()["patient"] == str(dependant.public_id)


def test_a_patient_cannot_book_for_someone_elses_relative(
    api_as, patient, other_patient, service, doctor, slot_start
):
    data = book_body(service, doctor, slot_start, patient=str(other_patient.public_id))
    response = api_as(patient.user).post(URL, data, format="json")
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_a_patient_cannot_choose_the_phone_channel(api_as, patient, service, doctor, slot_start):
    data = book_body(service, doctor, slot_start, channel="phone")
    response = api_as(patient.user).post(URL, data, format="json")
    assert response.status_code == 400
    assert "channel" in response.json()["errors"]


def test_a_registrar_books_any_patient_by_phone(
    api_as, registrar_a, other_patient, service, doctor, slot_start
):
    data = book_body(service, doctor, slot_start, patient=str(other_patient.public_id))
    response = api_as(registrar_a).post(URL, data, format="json")
    assert response.status_code == 201
    assert response.json()["channel"] == "phone"
    assert Appointment.objects.get().booked_by == registrar_a


def test_a_registrar_must_name_the_patient(api_as, registrar_a, service, doctor, slot_start):
    response = api_as(registrar_a).post(URL, book_body(service, doctor, slot_start), format="json")
    assert response.status_code == 400
    assert "patient" in response.json()["errors"]


def test_a_registrar_of_another_clinic_cannot_book_there(
    api_as, registrar_b, patient, service, doctor, slot_start
):
    data = book_body(service, doctor, slot_start, patient=str(patient.public_id))
    response = api_as(registrar_b).post(URL, data, format="json")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:medfront:problem:other-clinic"
    assert not Appointment.objects.exists()


def test_a_registrar_of_another_clinic_cannot_hold_there_either(
    api_as, registrar_b, registrar_a, service, doctor, slot_start
):
    body = {"service": str(service.public_id), "doctor": str(doctor.public_id)}
    body["start"] = slot_start.isoformat()
    refused = api_as(registrar_b).post("/api/v1/holds/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:medfront:problem:other-clinic"
    assert not Hold.objects.exists()
    assert api_as(registrar_a).post("/api/v1/holds/", body, format="json").status_code == 201


@pytest.mark.parametrize("persona", ["doctor_a", "marketer", "director"])
def test_roles_that_do_not_book_get_403(
    request, api_as, persona, patient, service, doctor, slot_start
):
    user = request.getfixturevalue(persona)
    data = book_body(service, doctor, slot_start, patient=str(patient.public_id))
    assert api_as(user).post(URL, data, format="json").status_code == 403


def test_anonymous_cannot_book(api, service, doctor, slot_start):
    assert api.post(URL, book_body(service, doctor, slot_start), format="json").status_code == 401


def test_a_start_without_offset_is_400(api_as, patient, service, doctor, tomorrow_a):
    data = book_body(service, doctor, at(doctor.clinics.get(), tomorrow_a, 10))
    data["start"] = f"{tomorrow_a}T10:00:00"
    response = api_as(patient.user).post(URL, data, format="json")
    assert response.status_code == 400
    assert "start" in response.json()["errors"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("hour", "minute", "status"),
    [
        (8, 0, 422),  # before the doctor's hours
        (10, 10, 422),  # misaligned to the 30-minute step
        (14, 0, 422),  # after the hours
    ],
)
def test_times_the_schedule_does_not_offer_are_422(
    api_as, patient, service, doctor, clinic_a, tomorrow_a, hour, minute, status
):
    data = book_body(service, doctor, at(clinic_a, tomorrow_a, hour, minute))
    response = api_as(patient.user).post(URL, data, format="json")
    assert response.status_code == status
    assert response.json()["detail"]
    assert not Appointment.objects.exists()


def test_a_time_in_the_past_is_refused(api_as, patient, service, doctor, clinic_a, tomorrow_a):
    start = at(clinic_a, tomorrow_a - datetime.timedelta(days=2), 10)
    response = api_as(patient.user).post(URL, book_body(service, doctor, start), format="json")
    assert response.status_code == 422
    assert not Appointment.objects.exists()


def test_unknown_ids_are_404(api_as, patient, service, doctor, slot_start):
    unknown = "00000000-0000-0000-0000-000000000000"
    client = api_as(patient.user)
    data = book_body(service, doctor, slot_start)
    assert client.post(URL, {**data, "doctor": unknown}, format="json").status_code == 404
    assert client.post(URL, {**data, "service": unknown}, format="json").status_code == 404
    assert client.post(URL, {**data, "service": "x"}, format="json").status_code == 400


def test_a_taken_slot_is_409(api_as, booked, other_patient, service, doctor, slot_start):
    response = api_as(other_patient.user).post(
        URL, book_body(service, doctor, slot_start), format="json"
    )
    assert response.status_code == 409
    assert response.json()["type"] == "urn:medfront:problem:slot-taken"
    assert Appointment.objects.count() == 1


# --- Holds -------------------------------------------------------------------------------------


def test_hold_then_book_end_to_end(api, api_as, patient, service, doctor, slot_start, tomorrow_a):
    client = api_as(patient.user)
    hold = client.post(
        "/api/v1/holds/",
        {
            "service": str(service.public_id),
            "doctor": str(doctor.public_id),
            "start": slot_start.isoformat(),
        },
        format="json",
    )
    assert hold.status_code == 201
    hold_id = hold.json()["id"]
    assert datetime.datetime.fromisoformat(hold.json()["expires_at"]) > timezone.now()
    # Held time is no longer offered to others.
    day = tomorrow_a.isoformat()
    starts = [
        s["start"]
        for s in api.get(
            "/api/v1/slots/", {"service": str(service.public_id), "start": day, "end": day}
        ).json()
    ]
    assert slot_start.isoformat() not in starts
    booked = client.post(URL, book_body(service, doctor, slot_start, hold=hold_id), format="json")
    assert booked.status_code == 201
    assert not Hold.objects.exists()


def test_someone_elses_hold_blocks_the_slot(
    api_as, patient, other_patient, service, doctor, slot_start
):
    body = {
        "service": str(service.public_id),
        "doctor": str(doctor.public_id),
        "start": slot_start.isoformat(),
    }
    assert api_as(other_patient.user).post("/api/v1/holds/", body, format="json").status_code == 201
    response = api_as(patient.user).post(URL, book_body(service, doctor, slot_start), format="json")
    assert response.status_code == 409


def test_booking_with_an_unknown_hold_is_409(api_as, patient, service, doctor, slot_start):
    data = book_body(service, doctor, slot_start, hold="00000000-0000-0000-0000-000000000000")
    response = api_as(patient.user).post(URL, data, format="json")
    assert response.status_code == 409
    assert response.json()["type"] == "urn:medfront:problem:hold-invalid"


def test_a_hold_needs_an_offset_and_a_booker(
    api_as, api, marketer, patient, service, doctor, tomorrow_a
):
    body = {
        "service": str(service.public_id),
        "doctor": str(doctor.public_id),
        "start": f"{tomorrow_a}T10:00:00",
    }
    assert api_as(patient.user).post("/api/v1/holds/", body, format="json").status_code == 400
    assert api_as(marketer).post("/api/v1/holds/", body, format="json").status_code == 403
    assert api.post("/api/v1/holds/", body, format="json").status_code == 401


# --- Idempotency --------------------------------------------------------------------------------


def test_a_replayed_booking_returns_the_same_answer_and_books_once(
    api_as, patient, service, doctor, slot_start
):
    client = api_as(patient.user)
    data = book_body(service, doctor, slot_start)
    first = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="book-1")
    again = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="book-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Appointment.objects.count() == 1


def test_the_same_key_with_another_booking_is_422(api_as, patient, service, doctor, slot_start):
    client = api_as(patient.user)
    client.post(
        URL, book_body(service, doctor, slot_start), format="json", HTTP_IDEMPOTENCY_KEY="b-2"
    )
    later = slot_start + datetime.timedelta(hours=1)
    other = client.post(
        URL, book_body(service, doctor, later), format="json", HTTP_IDEMPOTENCY_KEY="b-2"
    )
    assert other.status_code == 422
    assert Appointment.objects.count() == 1


# --- Reading ------------------------------------------------------------------------------------


def test_the_permission_matrix_for_reading_one_appointment(
    request, api, api_as, booked, patient, other_patient, registrar_a, registrar_b, doctor_a
):
    url = f"{URL}{booked.public_id}/"
    assert api_as(patient.user).get(url).status_code == 200
    assert api_as(registrar_a).get(url).status_code == 200
    assert api_as(doctor_a).get(url).status_code == 200
    assert api_as(other_patient.user).get(url).status_code == 404
    assert api_as(registrar_b).get(url).status_code == 404
    assert api.get(url).status_code == 401
    assert api_as(patient.user).get(f"{URL}not-a-uuid/").status_code == 404


def test_a_guardian_sees_their_dependants_visits(
    api_as, patient, dependant, registrar_a, service, doctor, slot_start
):
    data = book_body(service, doctor, slot_start, patient=str(dependant.public_id))
    created = api_as(registrar_a).post(URL, data, format="json").json()
    listed = api_as(patient.user).get(URL, {"when": "upcoming"}).json()
    assert [a["id"] for a in listed["results"]] == [created["id"]]


def test_lists_are_scoped_and_split_by_when(api_as, booked, patient, other_patient, registrar_b):
    assert api_as(patient.user).get(URL, {"when": "upcoming"}).json()["count"] == 1
    assert api_as(patient.user).get(URL, {"when": "past"}).json()["count"] == 0
    assert api_as(other_patient.user).get(URL).json()["count"] == 0
    assert api_as(registrar_b).get(URL).json()["count"] == 0
    assert api_as(patient.user).get(URL, {"when": "soon"}).status_code == 400


def test_the_list_runs_in_a_fixed_number_of_queries(
    api_as, registrar_a, booked, patient, service, doctor, slot_start, django_assert_max_num_queries
):
    for hours in (1, 2):
        data = book_body(
            service,
            doctor,
            slot_start + datetime.timedelta(hours=hours),
            patient=str(patient.public_id),
        )
        assert api_as(registrar_a).post(URL, data, format="json").status_code == 201
    client = api_as(registrar_a)
    with django_assert_max_num_queries(4):
        assert client.get(URL).json()["count"] == 3


# --- Actions ------------------------------------------------------------------------------------


def test_a_patient_reschedules_and_cancels_their_visit(api_as, patient, booked, slot_start):
    client = api_as(patient.user)
    later = slot_start + datetime.timedelta(hours=1)
    moved = client.post(
        f"{URL}{booked.public_id}/reschedule/", {"start": later.isoformat()}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["start"] == later.isoformat()
    assert moved.json()["id"] == str(booked.public_id)
    cancelled = client.post(
        f"{URL}{booked.public_id}/cancel/", {"reason": "Заболел"}, format="json"
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"{URL}{booked.public_id}/cancel/", {"reason": ""}, format="json")
    assert again.status_code == 409


def test_rescheduling_without_an_offset_is_400(api_as, patient, booked, tomorrow_a):
    url = f"{URL}{booked.public_id}/reschedule/"
    response = api_as(patient.user).post(url, {"start": f"{tomorrow_a}T11:00:00"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("action", ["confirm", "check-in", "no-show", "complete", "rollback"])
def test_patients_cannot_do_staff_actions(api_as, patient, booked, action):
    response = api_as(patient.user).post(f"{URL}{booked.public_id}/{action}/", {}, format="json")
    assert response.status_code == 403
    booked.refresh_from_db()
    assert booked.status == "booked"


@pytest.mark.parametrize("action", ["confirm", "cancel", "rollback", "reschedule"])
def test_other_people_get_404_on_actions(api_as, other_patient, registrar_b, booked, action):
    for user in (other_patient.user, registrar_b):
        response = api_as(user).post(f"{URL}{booked.public_id}/{action}/", {}, format="json")
        assert response.status_code == 404


def test_a_doctor_may_not_cancel_but_may_complete(api_as, doctor_a, registrar_a, booked):
    assert (
        api_as(doctor_a).post(f"{URL}{booked.public_id}/cancel/", {}, format="json").status_code
        == 403
    )
    checked = api_as(registrar_a).post(f"{URL}{booked.public_id}/check-in/", {}, format="json")
    # Check-in is only possible on the visit's day: tomorrow's visit is refused with 409.
    assert checked.status_code == 409


def test_staff_confirm_then_rollback_is_refused_after_confirm(api_as, registrar_a, booked):
    client = api_as(registrar_a)
    confirmed = client.post(f"{URL}{booked.public_id}/confirm/", {}, format="json")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    rollback = client.post(
        f"{URL}{booked.public_id}/rollback/", {"reason": "ошибка"}, format="json"
    )
    assert rollback.status_code == 409


def test_staff_roll_back_a_fresh_booking(api_as, registrar_a, booked):
    response = api_as(registrar_a).post(
        f"{URL}{booked.public_id}/rollback/", {"reason": "ошибка"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rolled_back"


def test_no_show_before_the_start_is_409(api_as, registrar_a, booked):
    response = api_as(registrar_a).post(f"{URL}{booked.public_id}/no-show/", {}, format="json")
    assert response.status_code == 409


@pytest.fixture
def today_clinic(db, service):
    """A clinic whose local time is mid-day now, a doctor working there around the clock,
    its registrar and the doctor's login: for check-in, complete and no-show today."""
    import zoneinfo

    from portal.choices import Role
    from tests.factories import ClinicFactory, make_staff
    from tests.scheduling.api.builders import make_doctor, make_rule

    zones = ["Pacific/Kiritimati", "Asia/Tokyo", "Europe/London", "America/New_York"]
    zones += ["Pacific/Honolulu", "Asia/Kolkata"]
    zone = next(z for z in zones if 2 <= datetime.datetime.now(zoneinfo.ZoneInfo(z)).hour <= 20)
    clinic = ClinicFactory(timezone=zone)
    registrar = make_staff(Role.REGISTRAR, clinic)
    doctor_user = make_staff(Role.DOCTOR, clinic)
    doc = make_doctor(service=service, clinics=[clinic], user=doctor_user)
    for weekday in range(7):
        make_rule(doctor=doc, clinic=clinic, weekday=weekday, start="00:00", end="23:30")
    now = timezone.now().astimezone(clinic.tz)
    start = now.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(hours=1)
    return clinic, registrar, doctor_user, doc, start


def test_check_in_and_complete_on_the_day(api_as, today_clinic, patient, service):
    _clinic, registrar, doctor_user, doc, start = today_clinic
    data = book_body(service, doc, start, patient=str(patient.public_id))
    response = api_as(registrar).post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    url = f"{URL}{response.json()['id']}"
    checked = api_as(registrar).post(f"{url}/check-in/", {}, format="json")
    assert checked.json()["status"] == "checked_in"
    # A checked-in visit can no longer be cancelled.
    assert api_as(registrar).post(f"{url}/cancel/", {}, format="json").status_code == 409
    completed = api_as(doctor_user).post(f"{url}/complete/", {}, format="json")
    assert completed.json()["status"] == "completed"


def test_no_show_once_the_start_has_passed(api_as, today_clinic, patient, service):
    _clinic, registrar, _doctor_user, doc, start = today_clinic
    data = book_body(service, doc, start, patient=str(patient.public_id))
    created = api_as(registrar).post(URL, data, format="json").json()
    # Let the visit's time pass (test set-up only: the engine never books the past).
    Appointment.objects.filter(public_id=created["id"]).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=40),
        ends_at=timezone.now() - datetime.timedelta(minutes=10),
    )
    response = api_as(registrar).post(f"{URL}{created['id']}/no-show/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "no_show"
    listed = api_as(patient.user).get(URL, {"when": "past"}).json()
    assert [a["id"] for a in listed["results"]] == [created["id"]]
