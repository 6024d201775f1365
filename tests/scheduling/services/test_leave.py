"""Deciding leave requests: what approval puts into the schedule, who is told, what is
refused (and that a refusal changes nothing)."""

import datetime

import pytest

from notifications.models import OutboxMessage
from portal.models import AuditEvent
from scheduling.choices import (
    AppointmentStatus,
    ExceptionKind,
    LeaveKind,
    LeaveStatus,
    RebookReason,
)
from scheduling.errors import InvalidInput, InvalidTransition, NotAllowed
from scheduling.models import LeaveRequest, RebookTask, ScheduleException, Substitution
from scheduling.selectors.availability import free_slots
from scheduling.services.booking import appointment_book
from scheduling.services.leave import (
    MAX_DECISION_REASON_LENGTH,
    leave_affected_appointments,
    leave_request_approve,
    leave_request_decline,
)
from tests.factories import (
    ClinicFactory,
    DoctorFactory,
    PatientWithLoginFactory,
    make_staff,
    make_weekly_schedule,
)
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
TUE = datetime.date(2027, 3, 2)
WED = datetime.date(2027, 3, 3)


@pytest.fixture
def my_doctor(doctor, doctor_a):
    doctor.user = doctor_a
    doctor.save(update_fields=["user"])
    return doctor


@pytest.fixture
def substitute(clinic_a, service):
    doc = DoctorFactory(services=[service], clinics=[clinic_a])
    make_weekly_schedule(doc, clinic_a)
    return doc


def book(patient, doctor, service, day=TUE, index=0):
    slot = free_slots(service=service, doctor=doctor, start_date=day, end_date=day)[index]
    return appointment_book(
        patient=patient,
        doctor=doctor,
        service=service,
        start=slot.start,
        channel="phone",
        actor=patient.user,
    )


def ask(doctor, kind=LeaveKind.DAY_OFF, **changes):
    values = {"date_from": TUE, "date_to": TUE, **changes}
    return LeaveRequest.objects.create(doctor=doctor, kind=kind, requested_by=doctor.user, **values)


def test_a_day_off_becomes_an_absence_and_hands_its_visits_to_the_desk(
    clock, my_doctor, service, patient, other_patient, head_nurse_a, clinic_a
):
    first = book(patient, my_doctor, service)
    second = book(other_patient, my_doctor, service, index=2)
    later = book(patient, my_doctor, service, day=WED)
    request = ask(my_doctor, clinic=clinic_a)
    decision = leave_request_approve(request=request, actor=head_nurse_a, reason="Fine")
    assert decision.moved == []
    assert decision.to_desk == [first, second]
    absence = ScheduleException.objects.get(doctor=my_doctor)
    assert (absence.kind, absence.clinic, absence.date_from, absence.date_to) == (
        ExceptionKind.DAY_OFF,
        clinic_a,
        TUE,
        TUE,
    )
    tasks = RebookTask.objects.order_by("appointment__starts_at")
    assert [t.appointment for t in tasks] == [first, second]
    assert {t.reason for t in tasks} == {RebookReason.LEAVE}
    assert my_doctor.full_name in tasks[0].detail and "02.03.2027" in tasks[0].detail
    away = OutboxMessage.objects.filter(event="appointment.doctor_away")
    # One SMS and one e-mail for each visit of the day off, none for the visit after it.
    assert sorted((m.patient_id, m.channel) for m in away) == sorted(
        (p.pk, c) for p in (patient, other_patient) for c in ("email", "sms")
    )
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_reason) == (
        LeaveStatus.APPROVED,
        head_nurse_a,
        "Fine",
    )
    assert request.decided_at is not None
    told = OutboxMessage.objects.get(event="leave.decided")
    assert told.to_address == my_doctor.user.email
    assert told.context["approved"] is True
    assert AuditEvent.objects.filter(object_type="scheduling.leaverequest").exists()
    for visit in (first, second, later):
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.BOOKED
        assert visit.doctor == my_doctor


def test_a_substitution_moves_visits_to_a_free_substitute_and_the_rest_to_the_desk(
    clock, my_doctor, substitute, service, patient, other_patient, head_nurse_a
):
    movable = book(patient, my_doctor, service)
    clash = book(other_patient, my_doctor, service, index=1)
    # The substitute is busy at the second visit's time: that one goes to the desk.
    busy = PatientWithLoginFactory()
    appointment_book(
        patient=busy,
        doctor=substitute,
        service=service,
        start=clash.starts_at,
        channel="phone",
        actor=busy.user,
    )
    request = ask(my_doctor, LeaveKind.SUBSTITUTION, date_to=WED, substitute=substitute)
    decision = leave_request_approve(request=request, actor=head_nurse_a)
    assert decision.moved == [movable]
    assert decision.to_desk == [clash]
    movable.refresh_from_db()
    clash.refresh_from_db()
    assert (movable.doctor, movable.starts_at) == (substitute, decision.moved[0].starts_at)
    assert clash.doctor == my_doctor
    assert list(Substitution.objects.values_list("date", "substitute")) == [
        (TUE, substitute.pk),
        (WED, substitute.pk),
    ]
    # The substitution itself takes the doctor's hours away: no absence is needed.
    assert not ScheduleException.objects.exists()
    moved_note = OutboxMessage.objects.get(event="appointment.rescheduled", channel="email")
    assert moved_note.context["previous_doctor"] == my_doctor.full_name
    assert RebookTask.objects.get().appointment == clash
    assert "02.03.2027–03.03.2027" in RebookTask.objects.get().detail


def test_the_decider_may_pick_another_substitute(
    clock, my_doctor, substitute, service, patient, head_nurse_a, clinic_a
):
    visit = book(patient, my_doctor, service)
    request = ask(my_doctor, LeaveKind.SUBSTITUTION, clinic=clinic_a)
    decision = leave_request_approve(request=request, actor=head_nurse_a, substitute=substitute)
    assert decision.moved == [visit]
    request.refresh_from_db()
    assert request.substitute == substitute
    assert not RebookTask.objects.exists()


def test_a_substitution_needs_a_fitting_substitute(clock, my_doctor, substitute, head_nurse_a):
    request = ask(my_doctor, LeaveKind.SUBSTITUTION)
    with pytest.raises(InvalidInput) as refused:
        leave_request_approve(request=request, actor=head_nurse_a)
    assert refused.value.code == "no_substitute"
    with pytest.raises(InvalidInput) as refused:
        leave_request_approve(request=request, actor=head_nurse_a, substitute=my_doctor)
    assert refused.value.code == "bad_substitute"
    substitute.is_active = False
    substitute.save(update_fields=["is_active"])
    with pytest.raises(InvalidInput):
        leave_request_approve(request=request, actor=head_nurse_a, substitute=substitute)
    request.refresh_from_db()
    assert request.status == LeaveStatus.PENDING
    assert not ScheduleException.objects.exists()
    assert not Substitution.objects.exists()


def test_declining_changes_nothing_in_the_schedule(
    clock, my_doctor, service, patient, clinic_admin_a
):
    visit = book(patient, my_doctor, service)
    request = ask(my_doctor)
    with pytest.raises(InvalidInput) as refused:
        leave_request_decline(request=request, actor=clinic_admin_a, reason="   ")
    assert refused.value.code == "reason_required"
    declined = leave_request_decline(
        request=request, actor=clinic_admin_a, reason="Too many patients that day"
    )
    assert declined.status == LeaveStatus.DECLINED
    assert not ScheduleException.objects.exists()
    assert not RebookTask.objects.exists()
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED
    told = OutboxMessage.objects.get(event="leave.decided")
    assert told.context["approved"] is False
    assert told.context["reason"] == "Too many patients that day"


def test_a_decided_request_is_not_decided_again(clock, my_doctor, head_nurse_a):
    request = ask(my_doctor)
    leave_request_decline(request=request, actor=head_nurse_a, reason="No")
    with pytest.raises(InvalidTransition) as refused:
        leave_request_approve(request=request, actor=head_nurse_a)
    assert refused.value.code == "already_decided"
    assert str(LeaveStatus.DECLINED.label) in str(refused.value)
    assert not ScheduleException.objects.exists()


@pytest.mark.parametrize("who", ["registrar_a", "doctor_a", "director", "registrar_b"])
def test_only_schedule_managers_of_the_clinic_decide(clock, my_doctor, who, request):
    actor = request.getfixturevalue(who)
    leave = ask(my_doctor)
    with pytest.raises(NotAllowed) as refused:
        leave_request_approve(request=leave, actor=actor)
    assert refused.value.code in ("not_your_clinic", "own_request")
    with pytest.raises(NotAllowed):
        leave_request_decline(request=leave, actor=actor, reason="no")
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.PENDING


def test_a_head_nurse_of_another_clinic_does_not_decide(clock, doctor):
    nurse_b = make_staff("head_nurse", ClinicFactory(), email="nurse-b@example.test")
    with pytest.raises(NotAllowed) as refused:
        leave_request_approve(request=ask(doctor), actor=nurse_b)
    assert refused.value.code == "not_your_clinic"


def test_a_doctor_without_clinics_has_nobody_to_decide(clock, network_admin):
    with pytest.raises(NotAllowed):
        leave_request_approve(request=ask(DoctorFactory()), actor=network_admin)


def test_nobody_decides_their_own_request(clock, doctor, head_nurse_a):
    doctor.user = head_nurse_a
    doctor.save(update_fields=["user"])
    with pytest.raises(NotAllowed) as refused:
        leave_request_approve(request=ask(doctor), actor=head_nurse_a)
    assert refused.value.code == "own_request"


def test_bad_input_is_refused(clock, my_doctor, head_nurse_a):
    request = ask(my_doctor)
    with pytest.raises(InvalidInput) as refused:
        leave_request_decline(
            request=request, actor=head_nurse_a, reason="x" * (MAX_DECISION_REASON_LENGTH + 1)
        )
    assert refused.value.code == "reason_too_long"
    past = ask(
        my_doctor,
        date_from=TUE - datetime.timedelta(days=7),
        date_to=TUE - datetime.timedelta(days=6),
    )
    with pytest.raises(InvalidInput) as refused:
        leave_request_approve(request=past, actor=head_nurse_a)
    assert refused.value.code == "in_the_past"
    assert LeaveRequest.objects.filter(status=LeaveStatus.PENDING).count() == 2


def test_a_doctor_without_an_address_is_not_mailed(clock, doctor, head_nurse_a):
    leave_request_decline(request=ask(doctor), actor=head_nurse_a, reason="No")
    assert not OutboxMessage.objects.filter(event="leave.decided").exists()


def test_patients_without_an_address_are_skipped(clock, my_doctor, service, patient, head_nurse_a):
    visit = book(patient, my_doctor, service)
    patient.email = ""
    patient.save(update_fields=["email"])
    leave_request_approve(request=ask(my_doctor), actor=head_nurse_a)
    sent = OutboxMessage.objects.filter(event="appointment.doctor_away", patient=patient)
    assert [m.channel for m in sent] == ["sms"]
    assert RebookTask.objects.get().appointment == visit


def test_affected_visits_are_those_on_the_days_in_the_clinics_own_calendar(
    clock, my_doctor, service, patient, clinic_a
):
    tuesday = book(patient, my_doctor, service)
    book(patient, my_doctor, service, day=WED)
    request = ask(my_doctor, clinic=clinic_a)
    assert leave_affected_appointments(request) == [tuesday]
    assert tuesday.starts_at.astimezone(clinic_a.tz).date() == TUE
    assert local(clinic_a, 2027, 3, 2, 9) <= tuesday.starts_at


@pytest.mark.parametrize(
    ("language", "away", "moved", "decided"),
    [
        ("en", "will call you", "instead of", "approved your request (substitution"),
        ("ru", "Клиника позвонит", "Вместо врача", "одобрил(а) вашу заявку (замена"),
    ],
)
def test_the_messages_read_well_in_both_languages(
    clock,
    my_doctor,
    substitute,
    service,
    patient,
    other_patient,
    head_nurse_a,
    language,
    away,
    moved,
    decided,
):
    from notifications.rendering import render_message

    for someone in (patient, other_patient):
        someone.preferred_language = language
        someone.save(update_fields=["preferred_language"])
    my_doctor.user.preferred_language = language
    my_doctor.user.save(update_fields=["preferred_language"])
    book(patient, my_doctor, service)
    clash = book(other_patient, my_doctor, service, index=1)
    appointment_book(
        patient=patient,
        doctor=substitute,
        service=service,
        start=clash.starts_at,
        channel="phone",
        actor=patient.user,
    )
    OutboxMessage.objects.all().delete()
    leave_request_approve(
        request=ask(my_doctor, LeaveKind.SUBSTITUTION, substitute=substitute),
        actor=head_nurse_a,
        reason="OK",
    )
    subject, body = render_message(
        OutboxMessage.objects.get(event="appointment.doctor_away", channel="email")
    )
    assert away in body and my_doctor.full_name in body
    subject, body = render_message(
        OutboxMessage.objects.get(event="appointment.rescheduled", channel="email")
    )
    assert moved in body and substitute.full_name in body
    subject, body = render_message(OutboxMessage.objects.get(event="leave.decided"))
    assert decided in body and "02.03.2027" in subject


def test_the_substitute_takes_the_absent_doctors_hours_but_only_their_own_services(
    clock, my_doctor, service, patient, head_nurse_a, clinic_a
):
    visit = book(patient, my_doctor, service)
    # No hours of their own that day: the substitution gives them the absent doctor's.
    stand_in = DoctorFactory(services=[service], clinics=[clinic_a])
    decision = leave_request_approve(
        request=ask(my_doctor, LeaveKind.SUBSTITUTION, substitute=stand_in), actor=head_nurse_a
    )
    assert decision.moved == [visit]
    # One who does not do the service cannot take the visit: it goes to the desk.
    other_visit = book(patient, my_doctor, service, day=WED)
    unskilled = DoctorFactory(clinics=[clinic_a])
    decision = leave_request_approve(
        request=ask(my_doctor, LeaveKind.SUBSTITUTION, date_from=WED, date_to=WED),
        actor=head_nurse_a,
        substitute=unskilled,
    )
    assert decision.to_desk == [other_visit]
