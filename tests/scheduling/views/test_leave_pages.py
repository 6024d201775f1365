"""The leave decision pages: the head nurse's and clinic admin's list, approve and decline —
allowed and refused roles, another clinic, bad input, a request decided twice — and the
decision as the doctor sees it."""

import datetime

import pytest
from django.urls import reverse

from portal.choices import Role
from scheduling.choices import LeaveKind, LeaveStatus
from scheduling.models import LeaveRequest, RebookTask, ScheduleException
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    ServiceFactory,
    make_staff,
    make_weekly_schedule,
)

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
PAGE = reverse("scheduling:leave_requests")
EN = {"Accept-Language": "en"}


def approve_url(leave):
    return reverse("scheduling:leave_approve", args=[leave.pk])


def decline_url(leave):
    return reverse("scheduling:leave_decline", args=[leave.pk])


@pytest.fixture
def my_doctor(doctor, doctor_a):
    doctor.user = doctor_a
    doctor.save(update_fields=["user"])
    return doctor


@pytest.fixture
def substitute(clinic_a, service):
    doc = DoctorFactory(services=[service], clinics=[clinic_a], last_name="Заменова")
    make_weekly_schedule(doc, clinic_a)
    return doc


@pytest.fixture
def visit(clock, my_doctor, service, patient):
    slot = free_slots(service=service, doctor=my_doctor, start_date=TUE, end_date=TUE)[0]
    return appointment_book(
        patient=patient,
        doctor=my_doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=patient.user,
    )


def ask(doctor, kind=LeaveKind.DAY_OFF, **changes):
    values = {"date_from": TUE, "date_to": TUE, **changes}
    return LeaveRequest.objects.create(doctor=doctor, kind=kind, requested_by=doctor.user, **values)


def test_the_head_nurse_sees_pending_requests_with_their_visits(
    as_user, head_nurse_a, my_doctor, substitute, visit
):
    leave = ask(my_doctor, LeaveKind.SUBSTITUTION, note="Conference")
    page = as_user(head_nurse_a).get(PAGE, headers=EN)
    assert page.status_code == 200
    body = page.content.decode()
    assert my_doctor.full_name in body
    assert "1 booked visit" in body
    assert "Conference" in body
    assert approve_url(leave) in body and decline_url(leave) in body
    assert str(substitute.public_id) in body  # offered as the substitute


def test_approving_a_substitution_moves_the_visit(
    as_user, clinic_admin_a, my_doctor, substitute, visit
):
    leave = ask(my_doctor, LeaveKind.SUBSTITUTION)
    client = as_user(clinic_admin_a)
    response = client.post(
        approve_url(leave), {"substitute": str(substitute.public_id)}, headers=EN
    )
    assert response.status_code == 302 and response.url == PAGE
    visit.refresh_from_db()
    assert visit.doctor == substitute
    follow = client.get(PAGE, headers=EN).content.decode()
    assert "1 visit moved to the substitute" in follow
    assert "No requests are waiting" in follow and "Decided lately" in follow
    # A second decision is refused with a clear message and changes nothing.
    again = client.post(decline_url(leave), {"reason": "Changed my mind"}, follow=True, headers=EN)
    assert "decided already" in again.content.decode()
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.APPROVED


def test_approving_a_day_off_hands_visits_to_the_desk(as_user, head_nurse_a, my_doctor, visit):
    leave = ask(my_doctor)
    response = as_user(head_nurse_a).post(approve_url(leave), follow=True, headers=EN)
    assert "1 visit handed to the desk to rebook" in response.content.decode()
    assert RebookTask.objects.get().appointment == visit


def test_declining_needs_a_reason_and_the_doctor_reads_it(
    as_user, head_nurse_a, doctor_a, my_doctor
):
    leave = ask(my_doctor)
    client = as_user(head_nurse_a)
    refused = client.post(decline_url(leave), {"reason": ""}, follow=True, headers=EN)
    assert "Say why the request is declined" in refused.content.decode()
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.PENDING
    client.post(decline_url(leave), {"reason": "Clinic is short of staff"})
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.DECLINED
    assert not ScheduleException.objects.exists()
    mine = as_user(doctor_a).get(reverse("scheduling:doctor_leave"), headers=EN)
    body = mine.content.decode()
    assert "Declined" in body and "Clinic is short of staff" in body


def test_a_bad_substitute_is_refused_and_nothing_changes(as_user, head_nurse_a, my_doctor, visit):
    leave = ask(my_doctor, LeaveKind.SUBSTITUTION)
    client = as_user(head_nurse_a)
    for value in ("not-a-uuid", "6f1c2e1a-0000-4000-8000-000000000000"):
        response = client.post(approve_url(leave), {"substitute": value}, follow=True, headers=EN)
        assert "Choose the substitute again" in response.content.decode()
    response = client.post(approve_url(leave), {}, follow=True, headers=EN)
    assert "Choose the substitute doctor" in response.content.decode()
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.PENDING
    visit.refresh_from_db()
    assert visit.doctor == my_doctor


def test_a_decider_does_not_decide_their_own_request(as_user, clinic_a, service, clock):
    nurse = make_staff(Role.HEAD_NURSE, clinic_a, email="nurse-doctor@example.test")
    doctor = DoctorFactory(services=[service], clinics=[clinic_a], user=nurse)
    leave = ask(doctor)
    client = as_user(nurse)
    body = client.get(PAGE, headers=EN).content.decode()
    assert "someone else decides it" in body
    assert approve_url(leave) not in body
    response = client.post(approve_url(leave), follow=True, headers=EN)
    assert "Someone else decides your own request" in response.content.decode()


@pytest.mark.parametrize("who", ["registrar_a", "doctor_a", "director", "marketer"])
def test_other_roles_are_refused(as_user, my_doctor, who, request):
    leave = ask(my_doctor)
    client = as_user(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.post(approve_url(leave)).status_code == 403
    assert client.post(decline_url(leave), {"reason": "no"}).status_code == 403
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.PENDING


def test_a_patient_is_refused(as_user, patient, my_doctor):
    leave = ask(my_doctor)
    client = as_user(patient.user)
    assert client.get(PAGE).status_code == 403
    assert client.post(approve_url(leave)).status_code == 403


def test_another_clinics_head_nurse_sees_nothing_and_gets_404(as_user, my_doctor, visit):
    nurse_b = make_staff(Role.HEAD_NURSE, ClinicFactory(), email="nurse-b@example.test")
    leave = ask(my_doctor)
    client = as_user(nurse_b)
    body = client.get(PAGE, headers=EN).content.decode()
    assert my_doctor.full_name not in body
    assert client.post(approve_url(leave)).status_code == 404
    assert client.post(decline_url(leave), {"reason": "no"}).status_code == 404
    assert client.post(reverse("scheduling:leave_approve", args=[999999])).status_code == 404
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.PENDING


def test_a_get_does_not_decide(as_user, head_nurse_a, my_doctor):
    leave = ask(my_doctor)
    assert as_user(head_nurse_a).get(approve_url(leave)).status_code == 405


def test_the_list_costs_a_fixed_number_of_queries(
    as_user, head_nurse_a, clinic_a, service, clock, django_assert_max_num_queries
):
    for _n in range(6):
        doctor = DoctorFactory(services=[service], clinics=[clinic_a])
        ask(doctor, LeaveKind.SUBSTITUTION)
        ask(
            doctor,
            date_from=TUE + datetime.timedelta(days=3),
            date_to=TUE + datetime.timedelta(days=3),
        )
    client = as_user(head_nurse_a)
    client.get(PAGE)
    with django_assert_max_num_queries(20):
        assert client.get(PAGE).status_code == 200


def test_a_request_beyond_the_nurses_clinics_is_not_offered_to_her_but_the_network_admin_decides(
    as_user, head_nurse_a, network_admin, my_doctor, service, clinic_a, visit
):
    # The doctor also works where nobody manages the schedule locally.
    unmanaged = ClinicFactory(name="Медфронт Левобережный")
    my_doctor.clinics.add(unmanaged)
    fits = DoctorFactory(services=[service], clinics=[clinic_a, unmanaged], last_name="Подходящий")
    only_here = DoctorFactory(services=[service], clinics=[clinic_a], last_name="Местный")
    other = ServiceFactory(name="Приём гинеколога")
    stranger = DoctorFactory(services=[other], clinics=[clinic_a, unmanaged], last_name="Чужой")
    leave = ask(my_doctor, LeaveKind.SUBSTITUTION, substitute=only_here)
    nurse_page = as_user(head_nurse_a).get(PAGE, headers=EN).content.decode()
    assert my_doctor.full_name in nurse_page
    assert approve_url(leave) not in nurse_page and decline_url(leave) not in nurse_page
    assert "the network admin, decides it" in nurse_page
    admin = as_user(network_admin)
    page = admin.get(PAGE, headers=EN).content.decode()
    assert approve_url(leave) in page and decline_url(leave) in page
    assert str(fits.public_id) in page
    assert str(only_here.public_id) not in page and str(stranger.public_id) not in page
    assert "not in every clinic concerned" in page  # the doctor's proposal does not fit
    refused = admin.post(approve_url(leave), follow=True, headers=EN).content.decode()
    assert "works in every clinic the request concerns" in refused
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.PENDING
    admin.post(approve_url(leave), {"substitute": str(fits.public_id)}, headers=EN)
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.APPROVED and leave.substitute == fits


def test_a_substitution_nobody_can_take_says_what_to_do(as_user, head_nurse_a, my_doctor):
    ask(my_doctor, LeaveKind.SUBSTITUTION)
    body = as_user(head_nurse_a).get(PAGE, headers=EN).content.decode()
    assert "No other doctor of this specialty works in every clinic concerned" in body
