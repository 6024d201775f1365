"""Booking requests in pages: the patient's form and list, the desk's queue and answers, and
who may see what (issue #15)."""

import datetime

import pytest
from django.urls import reverse

from portal.choices import Role
from scheduling.choices import AppointmentChannel, BookingMode
from scheduling.choices import BookingRequestStatus as R
from scheduling.models import BookingPolicy, BookingRequest
from scheduling.selectors.availability import free_slots
from scheduling.services import booking_requests as svc
from scheduling.services.booking import appointment_book
from tests.factories import make_staff

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)


@pytest.fixture
def as_user(as_user, settings):
    """Signed-in clients reading English (the checks below read the pages' words)."""

    def english(user):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return english


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def request_mode(clinic_a):
    return BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)


def new_url(clinic, doctor=None, service=None, specialty=None):
    query = f"?clinic={clinic.public_id}"
    if doctor:
        query += f"&doctor={doctor.public_id}"
    if service:
        query += f"&service={service.public_id}"
    if specialty:
        query += f"&specialty={specialty.slug}"
    return reverse("scheduling:request_new") + query


def form(person, **extra):
    data = {
        "patient": str(person.public_id),
        "from_1": "2027-03-02",
        "part_1": "morning",
        "part_2": "any",
        "part_3": "any",
        "contact_channel": "sms",
        "comment": "Headache since Friday",
    }
    data.update(extra)
    return data


def leave(patient, clinic, service):
    return svc.booking_request_create(
        patient=patient,
        clinic=clinic,
        service=service,
        windows=[{"from": TUE, "to": TUE, "part": "any"}],
        actor=patient.user,
    )


def slot_ids(doctor, service, count=1):
    slots = free_slots(
        service=service,
        doctor=doctor,
        start_date=TUE,
        end_date=TUE,
        channel=AppointmentChannel.REQUEST,
    )
    return [s.slot_id for s in slots[:count]], slots


# --- The patient's side -------------------------------------------------------------------


def test_the_doctor_page_offers_a_request_instead_of_times(
    clock, client, request_mode, clinic_a, doctor, service
):
    page = client.get(reverse("scheduling:doctor", args=[doctor.public_id])).content.decode()
    assert reverse("scheduling:request_new") in page
    specialty = client.get(reverse("scheduling:specialty", args=[service.specialty.slug]))
    assert "Leave a request" in specialty.content.decode()
    found = client.get(reverse("scheduling:find_care") + "?q=" + doctor.last_name)
    assert found.status_code == 200


def test_a_patient_leaves_a_request_and_sees_it_in_my_visits(
    clock, as_user, request_mode, clinic_a, doctor, service, patient, dependant
):
    client = as_user(patient.user)
    url = new_url(clinic_a, doctor=doctor, service=service)
    page = client.get(url).content.decode()
    assert "This is a request, not yet a booking" in page
    answer = client.post(url, form(dependant, service=str(service.public_id)))
    assert answer.status_code == 302
    assert answer["Location"].endswith("#requests")
    request = BookingRequest.objects.get()
    assert (request.patient, request.doctor, request.service) == (dependant, doctor, service)
    assert request.comment == "Headache since Friday"
    visits = client.get(reverse("scheduling:visits")).content.decode()
    assert "My requests" in visits
    assert "Waiting for the clinic" in visits
    # The same again is refused with a message, and nothing is added.
    again = client.post(url, form(dependant, service=str(service.public_id)))
    assert again.status_code == 400
    assert "already waiting" in again.content.decode()
    assert BookingRequest.objects.count() == 1


def test_a_request_by_specialty_and_bad_input(
    clock, as_user, request_mode, clinic_a, service, patient, other_patient
):
    client = as_user(patient.user)
    url = new_url(clinic_a, specialty=service.specialty)
    assert client.get(url).status_code == 200
    for bad in (
        {"from_1": ""},
        {"from_1": "2027-02-01"},
        {"from_1": "2027-03-05", "to_1": "2027-03-03"},
        {"from_1": "someday"},
        {"part_1": "midnight"},
        {"contact_channel": "pigeon"},
        {"patient": str(other_patient.public_id)},
    ):
        assert client.post(url, form(patient, **bad)).status_code == 400
    assert not BookingRequest.objects.exists()
    assert client.post(url, form(patient)).status_code == 302
    assert BookingRequest.objects.get().service is None


def test_the_form_is_only_for_request_mode_clinics_and_patients(
    clock, as_user, clinic_a, clinic_b, service, patient, registrar_a
):
    BookingPolicy.objects.create(clinic=clinic_b, mode=BookingMode.REQUEST)
    client = as_user(patient.user)
    assert client.get(new_url(clinic_a, service=service)).status_code == 404
    assert client.get(reverse("scheduling:request_new")).status_code == 404
    assert client.get(new_url(clinic_b)).status_code == 404  # nothing asked
    assert client.get(new_url(clinic_b, specialty=service.specialty)).status_code == 200
    staff = as_user(registrar_a).get(new_url(clinic_b, service=service))
    assert staff["Location"] == reverse("portal:home")


def test_the_patient_takes_a_proposed_time(
    clock, as_user, request_mode, clinic_a, doctor, service, patient, other_patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    _ids, slots = slot_ids(doctor, service)
    request = svc.booking_request_propose(
        request=request,
        slots=[
            svc.Wanted(doctor, service, slots[0].start),
            svc.Wanted(doctor, service, slots[1].start),
        ],
        actor=registrar_a,
    )
    first, second = request.proposals.all()
    client = as_user(patient.user)
    assert "Take this time" in client.get(reverse("scheduling:visits")).content.decode()
    accept = reverse("scheduling:request_accept", args=[request.public_id])
    # Patient B can neither see nor take A's request.
    assert (
        as_user(other_patient.user).post(accept, {"proposal": first.public_id}).status_code == 404
    )
    assert (
        "My requests"
        not in as_user(other_patient.user).get(reverse("scheduling:visits")).content.decode()
    )
    # The first time is taken meanwhile: a clear message, and the request waits for another.
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=first.starts_at,
        channel="phone",
        actor=registrar_a,
    )
    taken = client.post(accept, {"proposal": first.public_id}, follow=True)
    assert "just been taken" in taken.content.decode()
    request.refresh_from_db()
    assert request.status == R.PROPOSED
    assert client.post(accept, {"proposal": "nonsense"}).status_code == 404
    booked = client.post(accept, {"proposal": second.public_id})
    request.refresh_from_db()
    assert request.status == R.CONFIRMED
    assert booked["Location"] == reverse("scheduling:visit", args=[request.appointment.public_id])


def test_the_patient_cancels_a_request(
    clock, as_user, request_mode, clinic_a, service, patient, other_patient
):
    request = leave(patient, clinic_a, service)
    cancel = reverse("scheduling:request_cancel", args=[request.public_id])
    assert as_user(other_patient.user).post(cancel).status_code == 404
    client = as_user(patient.user)
    assert client.post(cancel).status_code == 302
    request.refresh_from_db()
    assert request.status == R.CANCELLED
    again = client.post(cancel, follow=True)
    assert "answered or closed already" in again.content.decode()


# --- The desk -------------------------------------------------------------------------------


def test_the_queue_shows_requests_oldest_first_with_overdue_ones_marked(
    clock, as_user, request_mode, clinic_a, service, patient, other_patient, registrar_a
):
    older = leave(patient, clinic_a, service)
    clock.advance(minutes=20)
    leave(other_patient, clinic_a, service)
    client = as_user(registrar_a)
    page = client.get(reverse("scheduling:desk_requests")).content.decode()
    assert page.index(str(older.public_id)) < page.index("min left")
    assert "overdue by 5 min" in page
    assert "rq-overdue" in page
    board = client.get(reverse("scheduling:desk")).content.decode()
    assert reverse("scheduling:desk_requests") in board
    assert "1 overdue" in board


def test_staff_of_other_clinics_and_other_roles_are_refused(
    clock, as_user, request_mode, clinic_a, clinic_b, service, patient, registrar_b, doctor_a
):
    request = leave(patient, clinic_a, service)
    detail = reverse("scheduling:desk_request", args=[request.public_id])
    decline = reverse("scheduling:desk_request_action", args=[request.public_id, "decline"])
    other = as_user(registrar_b)
    assert other.get(detail).status_code == 404
    assert other.post(decline, {"reason": "No"}).status_code == 404
    assert (
        other.get(f"{reverse('scheduling:desk_requests')}?clinic={clinic_a.public_id}").status_code
        == 404
    )
    assert "None of your clinics" in other.get(reverse("scheduling:desk_requests")).content.decode()
    assert as_user(doctor_a).get(detail).status_code in (403, 404)
    assert as_user(patient.user).get(detail).status_code in (403, 404)
    request.refresh_from_db()
    assert request.status == R.OPEN


def test_a_network_admin_picks_the_clinic(clock, as_user, request_mode, clinic_a, network_admin):
    BookingPolicy.objects.create(
        clinic=type(clinic_a).objects.create(
            slug="second",
            name="Second",
            legal_entity=clinic_a.legal_entity,
            city="Irkutsk",
            address="1",
            timezone="Asia/Irkutsk",
        ),
        mode=BookingMode.REQUEST,
    )
    page = as_user(network_admin).get(reverse("scheduling:desk_requests")).content.decode()
    assert "Choose the clinic" in page


def test_the_registrar_confirms_a_free_time(
    clock, as_user, request_mode, clinic_a, doctor, service, patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    client = as_user(registrar_a)
    detail = reverse("scheduling:desk_request", args=[request.public_id])
    page = client.get(detail).content.decode()
    assert "Answer with a free time" in page
    assert client.get(detail + "?date=2027-03-03&any_doctor=1").status_code == 200
    assert client.get(detail + "?date=garbage").status_code == 200
    ids, _slots = slot_ids(doctor, service, 2)
    confirm = reverse("scheduling:desk_request_action", args=[request.public_id, "confirm"])
    two = client.post(confirm, {"slot": ids}, follow=True)
    assert "exactly one" in two.content.decode()
    answer = client.post(confirm, {"slot": ids[:1], "date": "2027-03-02"})
    assert answer.status_code == 302
    request.refresh_from_db()
    assert request.status == R.CONFIRMED
    assert request.appointment.channel == AppointmentChannel.REQUEST
    assert "The booked visit" in client.get(detail).content.decode()


def test_a_time_taken_between_pick_and_confirm_keeps_the_request_open(
    clock, as_user, request_mode, clinic_a, doctor, service, patient, other_patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    ids, slots = slot_ids(doctor, service)
    client = as_user(registrar_a)
    client.get(reverse("scheduling:desk_request", args=[request.public_id]))
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=slots[0].start,
        channel="phone",
        actor=registrar_a,
    )
    confirm = reverse("scheduling:desk_request_action", args=[request.public_id, "confirm"])
    answer = client.post(confirm, {"slot": ids, "date": "2027-03-02"}, follow=True)
    assert "The request is still open" in answer.content.decode()
    request.refresh_from_db()
    assert request.status == R.OPEN


def test_the_registrar_proposes_and_declines_and_bad_input_is_refused(
    clock, as_user, request_mode, clinic_a, clinic_b, doctor, service, patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    client = as_user(registrar_a)
    act = lambda action: reverse(  # noqa: E731
        "scheduling:desk_request_action", args=[request.public_id, action]
    )
    ids, _slots = slot_ids(doctor, service, 4)
    for bad in ({"slot": ["garbage"]}, {"slot": ids}, {}):
        answer = client.post(act("propose"), bad, follow=True)
        assert answer.status_code == 200
    assert client.post(act("explode")).status_code == 404
    request.refresh_from_db()
    assert request.status == R.OPEN
    assert client.post(act("propose"), {"slot": ids[:2]}).status_code == 302
    request.refresh_from_db()
    assert request.status == R.PROPOSED
    assert client.post(act("decline"), {"reason": ""}, follow=True).status_code == 200
    client.post(act("decline"), {"reason": "The doctor is away this month"})
    request.refresh_from_db()
    assert request.status == R.DECLINED


def test_times_of_another_clinic_or_unknown_doctor_are_refused(
    clock, as_user, request_mode, clinic_a, clinic_b, doctor, service, patient, registrar_a
):
    from scheduling.slot_ids import SlotIdMaker

    request = leave(patient, clinic_a, service)
    client = as_user(registrar_a)
    maker = SlotIdMaker()
    start = datetime.datetime(2027, 3, 2, 9, tzinfo=clinic_a.tz)
    elsewhere = maker.make(
        doctor_public_id=doctor.public_id,
        clinic_public_id=clinic_b.public_id,
        service_public_id=service.public_id,
        start=start,
    )
    nobody = maker.make(
        doctor_public_id=clinic_b.public_id,
        clinic_public_id=clinic_a.public_id,
        service_public_id=service.public_id,
        start=start,
    )
    confirm = reverse("scheduling:desk_request_action", args=[request.public_id, "confirm"])
    assert (
        "Choose a time in the request"
        in client.post(confirm, {"slot": elsewhere}, follow=True).content.decode()
    )
    assert client.post(confirm, {"slot": nobody}, follow=True).status_code == 200
    request.refresh_from_db()
    assert request.status == R.OPEN


def test_a_clinic_admin_sees_the_queue(clock, as_user, request_mode, clinic_a, clinic_admin_a):
    assert as_user(clinic_admin_a).get(reverse("scheduling:desk_requests")).status_code == 200
    head_nurse = make_staff(Role.HEAD_NURSE, clinic_a, email="hn2@example.test")
    assert as_user(head_nurse).get(reverse("scheduling:desk_requests")).status_code == 403
