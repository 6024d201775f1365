"""Booking requests: the whole life cycle, the SLA in working minutes, escalation, expiry and
every refusal (issue #15)."""

import datetime

import pytest
from django.utils import translation

from notifications.models import OutboxMessage
from portal.models import AuditEvent
from scheduling.choices import AppointmentChannel, BookingMode, DayPart
from scheduling.choices import BookingRequestStatus as R
from scheduling.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    PolicyViolation,
    SlotTaken,
    SlotUnavailable,
)
from scheduling.models import BookingPolicy, BookingRequest, QuotaCounter
from scheduling.selectors.availability import free_slots
from scheduling.services import booking_request_sla as sla
from scheduling.services import booking_requests as svc
from scheduling.services.booking import appointment_book
from scheduling.services.booking_request_trail import OBJECT_TYPE
from scheduling.services.booking_requests import Wanted
from tests.factories import ClinicFactory, DoctorFactory, ServiceFactory, SpecialtyFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)


@pytest.fixture(autouse=True)
def _english():
    """The checks below read the errors' English words."""
    with translation.override("en"):
        yield


@pytest.fixture
def policy(clinic_a):
    return BookingPolicy.objects.create(clinic=clinic_a, mode=BookingMode.REQUEST)


def leave(patient, clinic, service, actor=None, **kw):
    kw.setdefault("windows", [{"from": TUE, "to": TUE, "part": DayPart.MORNING}])
    return svc.booking_request_create(
        patient=patient, clinic=clinic, service=service, actor=actor or patient.user, **kw
    )


def slot(doctor, service, day=TUE, index=0):
    return free_slots(
        service=service,
        doctor=doctor,
        start_date=day,
        end_date=day,
        channel=AppointmentChannel.REQUEST,
    )[index]


def outbox(event):
    return OutboxMessage.objects.filter(event=event)


# --- Working minutes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ((1, 8, 0), (1, 8, 15)),  # within the day
        ((1, 6, 0), (1, 8, 15)),  # before opening: from the opening
        ((1, 19, 55), (2, 8, 10)),  # over the night
        ((5, 19, 55), (8, 8, 10)),  # Friday evening: the desk is closed at the weekend
        ((6, 12, 0), (8, 8, 15)),  # Saturday
    ],
)
def test_the_answer_time_counts_working_minutes_only(clinic_a, start, expected):
    policy = BookingPolicy(clinic=clinic_a, desk_days=[0, 1, 2, 3, 4])
    due = sla.desk_deadline(
        policy=policy, tz=clinic_a.tz, start=local(clinic_a, 2027, 3, *start), minutes=15
    )
    assert due == local(clinic_a, 2027, 3, *expected)


def test_a_desk_open_round_the_clock_or_past_midnight(clinic_a):
    always = BookingPolicy(
        clinic=clinic_a, desk_opens=datetime.time(8), desk_closes=datetime.time(8)
    )
    start = local(clinic_a, 2027, 3, 1, 3)
    assert sla.desk_deadline(policy=always, tz=clinic_a.tz, start=start, minutes=15) == local(
        clinic_a, 2027, 3, 1, 3, 15
    )
    night = BookingPolicy(
        clinic=clinic_a, desk_opens=datetime.time(20), desk_closes=datetime.time(2)
    )
    assert sla.desk_deadline(
        policy=night, tz=clinic_a.tz, start=local(clinic_a, 2027, 3, 2, 1), minutes=15
    ) == local(clinic_a, 2027, 3, 2, 1, 15)
    assert sla.desk_deadline(
        policy=night, tz=clinic_a.tz, start=local(clinic_a, 2027, 3, 2, 3), minutes=15
    ) == local(clinic_a, 2027, 3, 2, 20, 15)


# --- The life cycle -------------------------------------------------------------------------------


def test_the_whole_life_cycle(clock, policy, clinic_a, doctor, service, patient, registrar_a):
    request = leave(patient, clinic_a, service, doctor=doctor, comment="  Back pain  ")
    assert request.status == R.OPEN
    assert request.specialty == service.specialty
    assert request.comment == "Back pain"
    assert request.windows == [{"from": "2027-03-02", "to": "2027-03-02", "part": "morning"}]
    assert request.sla_due_at == clock.now + datetime.timedelta(minutes=15)
    assert outbox("booking_request.received").filter(patient=patient).count() == 1

    first, second = slot(doctor, service), slot(doctor, service, index=3)
    request = svc.booking_request_propose(
        request=request,
        slots=[Wanted(doctor, service, second.start), Wanted(doctor, service, first.start)],
        actor=registrar_a,
    )
    assert request.status == R.PROPOSED
    assert [p.starts_at for p in request.proposals.all()] == [first.start, second.start]
    proposed = outbox("booking_request.proposed").get()
    assert len(proposed.context["times"]) == 2
    # Proposing again replaces the earlier times.
    request = svc.booking_request_propose(
        request=request, slots=[Wanted(doctor, service, second.start)], actor=registrar_a
    )
    proposal = request.proposals.get()

    clock.advance(minutes=30)
    request = svc.booking_request_accept(request=request, proposal=proposal, actor=patient.user)
    assert request.status == R.CONFIRMED
    assert request.time_to_confirm == datetime.timedelta(minutes=30)
    visit = request.appointment
    assert visit.channel == AppointmentChannel.REQUEST
    assert visit.starts_at == second.start
    assert visit.quota_channel == "online"
    # One message in the request's words, not a second "booked" one from the engine.
    assert outbox("booking_request.confirmed").filter(patient=patient).count() == 1
    assert not outbox("appointment.booked").exists()
    kinds = AuditEvent.objects.filter(object_type=OBJECT_TYPE).count()
    assert kinds == 4  # created, proposed twice, confirmed


def test_staff_confirm_a_real_slot(clock, policy, clinic_a, doctor, service, patient, registrar_a):
    request = leave(patient, clinic_a, service, actor=registrar_a, source="desk")
    chosen = slot(doctor, service)
    request = svc.booking_request_confirm(
        request=request,
        doctor=doctor,
        service=service,
        start=chosen.start,
        actor=registrar_a,
        bookable_clinic_ids={clinic_a.pk},
    )
    assert request.status == R.CONFIRMED
    assert request.handled_by == registrar_a
    assert request.appointment.quota_channel == "phone"
    assert request.created_by == registrar_a
    with pytest.raises(InvalidTransition):
        svc.booking_request_cancel(request=request, actor=patient.user)


def test_a_slot_taken_meanwhile_leaves_the_request_open(
    clock, policy, clinic_a, doctor, service, patient, other_patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    chosen = slot(doctor, service)
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=chosen.start,
        channel="phone",
        actor=registrar_a,
    )
    with pytest.raises(SlotTaken):
        svc.booking_request_confirm(
            request=request, doctor=doctor, service=service, start=chosen.start, actor=registrar_a
        )
    request.refresh_from_db()
    assert request.status == R.OPEN
    assert request.appointment is None
    assert not outbox("booking_request.confirmed").exists()


def test_an_accepted_time_taken_meanwhile_keeps_the_proposal(
    clock, policy, clinic_a, doctor, service, patient, other_patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    chosen = slot(doctor, service)
    request = svc.booking_request_propose(
        request=request, slots=[Wanted(doctor, service, chosen.start)], actor=registrar_a
    )
    appointment_book(
        patient=other_patient,
        doctor=doctor,
        service=service,
        start=chosen.start,
        channel="phone",
        actor=registrar_a,
    )
    with pytest.raises(SlotTaken):
        svc.booking_request_accept(
            request=request, proposal=request.proposals.get(), actor=patient.user
        )
    request.refresh_from_db()
    assert request.status == R.PROPOSED
    assert QuotaCounter.objects.count() == 0


def test_decline_and_cancel(clock, policy, clinic_a, doctor, service, patient, registrar_a):
    request = leave(patient, clinic_a, service, contact_channel="email")
    for reason in ("   ", "x" * 201):
        with pytest.raises(InvalidInput):
            svc.booking_request_decline(request=request, reason=reason, actor=registrar_a)
    request = svc.booking_request_decline(
        request=request, reason=" No such doctor this month ", actor=registrar_a
    )
    assert request.status == R.DECLINED
    assert request.decline_reason == "No such doctor this month"
    message = outbox("booking_request.declined").get()
    assert message.channel == "email"
    assert message.context["reason"] == "No such doctor this month"

    again = leave(patient, clinic_a, service)
    again = svc.booking_request_cancel(request=again, actor=patient.user)
    assert again.status == R.CANCELLED
    assert again.cancelled_at == clock.now


# --- Refusals ---------------------------------------------------------------------------------


def test_patients_act_only_for_their_own(
    clock, policy, clinic_a, doctor, service, patient, dependant, other_patient
):
    with pytest.raises(NotAllowed):
        leave(other_patient, clinic_a, service, actor=patient.user)
    mine = leave(dependant, clinic_a, service, actor=patient.user)
    with pytest.raises(NotAllowed):
        svc.booking_request_cancel(request=mine, actor=other_patient.user)
    chosen = slot(doctor, service)
    with pytest.raises(NotAllowed):
        svc.booking_request_confirm(
            request=mine, doctor=doctor, service=service, start=chosen.start, actor=patient.user
        )
    with pytest.raises(NotAllowed):
        svc.booking_request_propose(
            request=mine, slots=[Wanted(doctor, service, chosen.start)], actor=patient.user
        )
    with pytest.raises(NotAllowed):
        svc.booking_request_decline(request=mine, reason="no", actor=patient.user)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"source": "fax"}, "invalid_source"),
        ({"contact_channel": "pigeon"}, "invalid_contact"),
        ({"comment": "x" * 1001}, "comment_too_long"),
        ({"windows": []}, "no_windows"),
        ({"windows": [{"from": TUE}] * 4}, "too_many_windows"),
        ({"windows": [{"from": "2027-03-02"}]}, "invalid_window"),
        ({"windows": [{"from": TUE, "part": "night"}]}, "invalid_part"),
        ({"windows": [{"from": datetime.date(2027, 2, 28)}]}, "invalid_window"),
        ({"windows": [{"from": WED, "to": TUE}]}, "invalid_window"),
        ({"windows": [{"from": datetime.date(2027, 6, 1)}]}, "window_too_far"),
    ],
)
def test_bad_input_changes_nothing(clock, policy, clinic_a, service, patient, kwargs, code):
    with pytest.raises(InvalidInput) as caught:
        leave(patient, clinic_a, service, **kwargs)
    assert caught.value.code == code
    assert not BookingRequest.objects.exists()
    assert str(caught.value.message)


def test_what_is_asked_must_fit(clock, policy, clinic_a, clinic_b, doctor, service, patient):
    with pytest.raises(InvalidInput, match="specialty or a service"):
        leave(patient, clinic_a, None)
    with pytest.raises(InvalidInput, match="another specialty"):
        leave(patient, clinic_a, service, specialty=SpecialtyFactory())
    stranger = DoctorFactory(services=[service], clinics=[clinic_b])
    with pytest.raises(InvalidInput, match="does not see patients"):
        leave(patient, clinic_a, service, doctor=stranger)
    by_specialty = leave(patient, clinic_a, None, specialty=service.specialty, doctor=doctor)
    assert by_specialty.service is None
    assert by_specialty.specialty == service.specialty


def test_only_request_mode_clinics_take_requests(clock, clinic_a, service, patient):
    with pytest.raises(PolicyViolation):
        leave(patient, clinic_a, service)
    closed = ClinicFactory(is_active=False)
    BookingPolicy.objects.create(clinic=closed, mode=BookingMode.REQUEST)
    with pytest.raises(PolicyViolation):
        leave(patient, closed, service)


def test_duplicates_and_too_many_are_refused(clock, policy, clinic_a, service, patient):
    leave(patient, clinic_a, service)
    with pytest.raises(PolicyViolation, match="already waiting"):
        leave(patient, clinic_a, service)
    for _ in range(svc.MAX_ACTIVE_REQUESTS - 1):
        leave(patient, clinic_a, ServiceFactory(specialty=service.specialty))
    with pytest.raises(PolicyViolation) as caught:
        leave(patient, clinic_a, ServiceFactory(specialty=service.specialty))
    assert caught.value.code == "too_many_requests"


def test_staff_choose_a_time_of_what_was_asked(
    clock, policy, clinic_a, doctor, service, patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    other = ServiceFactory(specialty=service.specialty)
    elsewhere = ServiceFactory()
    chosen = slot(doctor, service)
    with pytest.raises(InvalidInput, match="service asked"):
        svc.booking_request_confirm(
            request=request, doctor=doctor, service=other, start=chosen.start, actor=registrar_a
        )
    by_specialty = leave(patient, clinic_a, None, specialty=service.specialty)
    with pytest.raises(InvalidInput, match="specialty asked"):
        svc.booking_request_propose(
            request=by_specialty,
            slots=[Wanted(doctor, elsewhere, chosen.start)],
            actor=registrar_a,
        )


def test_proposals_are_real_distinct_times(
    clock, policy, clinic_a, doctor, service, patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    chosen = slot(doctor, service)
    same = Wanted(doctor, service, chosen.start)
    for slots in (
        [],
        [same, same],
        [Wanted(doctor, service, slot(doctor, service, index=i).start) for i in range(4)],
    ):
        with pytest.raises(InvalidInput):
            svc.booking_request_propose(request=request, slots=slots, actor=registrar_a)
    with pytest.raises(SlotUnavailable):
        svc.booking_request_propose(
            request=request,
            slots=[Wanted(doctor, service, local(clinic_a, 2027, 3, 2, 18))],
            actor=registrar_a,
        )
    request.refresh_from_db()
    assert request.status == R.OPEN


def test_only_proposed_times_of_a_proposed_request_are_accepted(
    clock, policy, clinic_a, doctor, service, patient, registrar_a
):
    first = leave(patient, clinic_a, service)
    second = leave(patient, clinic_a, None, specialty=service.specialty)
    chosen = slot(doctor, service)
    with pytest.raises(InvalidTransition):
        svc.booking_request_accept(request=first, proposal=None, actor=patient.user)
    first = svc.booking_request_propose(
        request=first, slots=[Wanted(doctor, service, chosen.start)], actor=registrar_a
    )
    second = svc.booking_request_propose(
        request=second, slots=[Wanted(doctor, service, chosen.start)], actor=registrar_a
    )
    with pytest.raises(InvalidInput):
        svc.booking_request_accept(
            request=first, proposal=second.proposals.get(), actor=patient.user
        )


# --- Escalation and expiry ----------------------------------------------------------------


def test_overdue_requests_are_escalated_once(clock, policy, clinic_a, service, patient):
    clinic_a.email = "desk@clinic.test"
    clinic_a.save()
    request = leave(patient, clinic_a, service)
    assert sla.booking_requests_escalate() == 0
    clock.advance(minutes=16)
    assert sla.booking_requests_escalate() == 1
    assert sla.booking_requests_escalate() == 0
    request.refresh_from_db()
    assert request.escalated and request.escalated_at == clock.now
    alert = outbox("booking_request.overdue").get()
    assert alert.to_address == "desk@clinic.test"
    assert alert.patient is None


def test_a_clinic_without_email_sees_the_escalation_on_the_desk_only(
    clock, policy, clinic_a, service, patient
):
    clinic_a.email = ""
    clinic_a.save()
    leave(patient, clinic_a, service)
    clock.advance(hours=2)
    assert sla.booking_requests_escalate() == 1
    assert not outbox("booking_request.overdue").exists()


def test_unanswered_proposals_expire(
    clock, policy, clinic_a, doctor, service, patient, registrar_a
):
    request = leave(patient, clinic_a, service)
    chosen = slot(doctor, service)
    svc.booking_request_propose(
        request=request, slots=[Wanted(doctor, service, chosen.start)], actor=registrar_a
    )
    assert sla.booking_requests_expire() == 0
    clock.now = chosen.start.astimezone(datetime.UTC)
    assert sla.booking_requests_expire() == 1
    request.refresh_from_db()
    assert request.status == R.EXPIRED
    assert outbox("booking_request.expired").count() == 1


# --- Messages ------------------------------------------------------------------------------


def test_the_patient_is_told_on_another_channel_or_not_at_all(
    clock, policy, clinic_a, service, patient, dependant
):
    patient.email = ""
    patient.save()
    leave(patient, clinic_a, service, contact_channel="email")
    assert outbox("booking_request.received").get().channel == "sms"
    dependant.phone = ""
    dependant.email = ""
    dependant.save()
    # A dependant without an address of their own is told at their guardian's.
    first = leave(dependant, clinic_a, service, actor=patient.user)
    told = outbox("booking_request.received").order_by("pk")
    assert told.count() == 2
    assert told.last().patient_id == dependant.pk
    assert told.last().to_address == patient.phone
    # Nobody to reach: the request stands, no message.
    svc.booking_request_cancel(request=first, actor=patient.user)
    patient.phone = ""
    patient.save()
    leave(dependant, clinic_a, service, actor=patient.user)
    assert outbox("booking_request.received").count() == 2
