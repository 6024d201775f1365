"""The desk's queues page: visits to rebook with their links, closing a task, tasks leaving
the queue once their visit is moved or cancelled, the board's counter — allowed and refused
roles, another clinic's registrar, unknown ids."""

import datetime

import pytest
from django.urls import reverse

from portal.choices import AuditAction, Role
from portal.models import AuditEvent
from scheduling.choices import RebookReason
from scheduling.models import RebookTask
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book, appointment_cancel, appointment_reschedule
from scheduling.services.rebooking import rebook_tasks_open
from tests.factories import PatientFactory, StaffMembershipFactory

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
QUEUES = reverse("scheduling:desk_queues")
EN = {"Accept-Language": "en"}


def done_url(task):
    return reverse("scheduling:desk_rebook_done", args=[task.pk])


@pytest.fixture
def caller(db):
    return PatientFactory(last_name="Соколова", first_name="Мария")


@pytest.fixture
def visit(clock, doctor, service, caller, registrar_a):
    slot = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0]
    return appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=registrar_a,
    )


@pytest.fixture
def task(visit, head_nurse_a, clock):
    (opened,) = rebook_tasks_open(
        appointments=[visit],
        reason=RebookReason.CLOSURE,
        detail="Room 2 closed",
        actor=head_nurse_a,
    )
    clock.advance(hours=3)
    return opened


def test_the_registrar_sees_the_visit_to_rebook_with_its_links(as_user, registrar_a, task, visit):
    page = as_user(registrar_a).get(QUEUES, headers=EN)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Соколова Мария" in body
    assert "Room or device closed" in body and "Room 2 closed" in body
    assert "3\xa0hours" in body  # the task's age
    assert reverse("scheduling:desk_reschedule", args=[visit.public_id]) in body
    assert reverse("scheduling:desk_appointment", args=[visit.public_id]) in body
    assert done_url(task) in body
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, actor_id=registrar_a.pk)
    assert str(visit.patient.public_id) in str(listed.get().patient_ids)


def test_done_closes_the_task_once(as_user, registrar_a, task):
    client = as_user(registrar_a)
    response = client.post(done_url(task), follow=True, headers=EN)
    assert "The task is closed" in response.content.decode()
    task.refresh_from_db()
    assert task.closed_by == registrar_a and task.closed_at is not None
    assert "No visits to rebook" in response.content.decode()
    again = client.post(done_url(task), follow=True, headers=EN)
    assert "closed already" in again.content.decode()


def test_a_moved_or_cancelled_visit_leaves_the_queue(
    as_user, registrar_a, task, visit, doctor, service, caller
):
    client = as_user(registrar_a)
    later = free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[3]
    appointment_reschedule(appointment=visit, start=later.start, actor=registrar_a)
    assert "No visits to rebook" in client.get(QUEUES, headers=EN).content.decode()
    other = appointment_book(
        patient=caller,
        doctor=doctor,
        service=service,
        start=free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[0].start,
        channel="phone",
        actor=registrar_a,
    )
    rebook_tasks_open(appointments=[other], reason=RebookReason.LEAVE, actor=None)
    assert "Соколова" in client.get(QUEUES, headers=EN).content.decode()
    appointment_cancel(appointment=other, actor=registrar_a, reason="Doctor away")
    assert "No visits to rebook" in client.get(QUEUES, headers=EN).content.decode()
    assert RebookTask.objects.filter(closed_at__isnull=True).count() == 2  # hidden, not lost


def test_another_clinics_registrar_sees_nothing_and_gets_404(as_user, registrar_b, task):
    client = as_user(registrar_b)
    body = client.get(QUEUES, headers=EN).content.decode()
    assert "Соколова" not in body and "No visits to rebook" in body
    assert client.post(done_url(task)).status_code == 404
    assert client.post(reverse("scheduling:desk_rebook_done", args=[99999])).status_code == 404
    task.refresh_from_db()
    assert task.closed_at is None


@pytest.mark.parametrize("who", ["head_nurse_a", "doctor_a", "director", "marketer"])
def test_roles_that_do_not_book_are_refused(as_user, task, who, request):
    client = as_user(request.getfixturevalue(who))
    assert client.get(QUEUES).status_code == 403
    assert client.post(done_url(task)).status_code == 403
    task.refresh_from_db()
    assert task.closed_at is None


def test_a_patient_is_refused(as_user, patient, task):
    client = as_user(patient.user)
    assert client.get(QUEUES).status_code == 403
    assert client.post(done_url(task)).status_code == 403


def test_admins_see_the_queue(as_user, clinic_admin_a, network_admin, task):
    for user in (clinic_admin_a, network_admin):
        assert "Соколова" in as_user(user).get(QUEUES).content.decode()


def test_closing_needs_a_post(as_user, registrar_a, task):
    assert as_user(registrar_a).get(done_url(task)).status_code == 405


def test_the_board_links_to_the_queues_with_the_count(as_user, registrar_a, head_nurse_a, task):
    board = as_user(registrar_a).get(reverse("scheduling:desk"), headers=EN).content.decode()
    assert QUEUES in board and "1 visit to rebook" in board
    # The head nurse sees the board but does not book: no link.
    nurse = as_user(head_nurse_a).get(reverse("scheduling:desk"), headers=EN).content.decode()
    assert QUEUES not in nurse


def test_the_queue_costs_a_fixed_number_of_queries(
    as_user, registrar_a, doctor, service, clock, django_assert_max_num_queries
):
    visits = []
    for slot in free_slots(service=service, doctor=doctor, start_date=TUE, end_date=TUE)[:6]:
        visits.append(
            appointment_book(
                patient=PatientFactory(),
                doctor=doctor,
                service=service,
                start=slot.start,
                channel="phone",
                actor=registrar_a,
            )
        )
    rebook_tasks_open(appointments=visits, reason=RebookReason.OTHER, actor=None)
    client = as_user(registrar_a)
    client.get(QUEUES)
    with django_assert_max_num_queries(15):
        assert client.get(QUEUES).status_code == 200


def test_a_visit_to_rebook_shows_its_clinic_time_and_zone_to_a_moscow_reader(
    as_user, registrar_a, clinic_b, task, visit
):
    # Registrar of two clinics: the page's own zone is Moscow, the visit is in Irkutsk.
    StaffMembershipFactory(user=registrar_a, role=Role.REGISTRAR, clinic=clinic_b)
    body = as_user(registrar_a).get(QUEUES, headers=EN).content.decode()
    irkutsk = visit.starts_at.astimezone(visit.clinic.tz).strftime("%H:%M")
    moscow = visit.starts_at.astimezone(clinic_b.tz).strftime("%H:%M")
    assert f'<strong class="nowrap">{irkutsk}</strong>' in body
    assert moscow not in body
    assert "Иркутск time, UTC+8" in body
    assert "Asia/Irkutsk" not in body


def test_move_from_the_queue_opens_the_visits_own_day(as_user, registrar_a, task, visit):
    body = as_user(registrar_a).get(QUEUES, headers=EN).content.decode()
    day = visit.starts_at.astimezone(visit.clinic.tz).date().isoformat()
    move = reverse("scheduling:desk_reschedule", args=[visit.public_id])
    assert f"{move}?date={day}" in body
