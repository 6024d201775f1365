"""A year of past visits and the weeks ahead, written in bulk: appointments, their occupancy
rows, events and audit rows in a few INSERTs, so the database constraints still hold and the
trail exists."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from portal.choices import PATIENT_ROLE, AuditAction, Role
from portal.demo import DemoContext
from portal.models import AuditEvent
from portal.services.audit import audit_record_many
from scheduling.choices import AppointmentChannel, AppointmentStatus, ResourceKind
from scheduling.demo_network import AHEAD_DAYS, PAST_DAYS, DemoDoctor
from scheduling.models import Appointment, AppointmentEvent, Occupancy, RollbackRecord, Service
from scheduling.selectors.pricing import age_on

S = AppointmentStatus
UTC = datetime.UTC
# The share of patients who came from the history's first month, and which of them lapsed.
EARLY_SHARE = 0.4
LAPSED_EVERY = 4
ONCE_EVERY = 4


def seed_history(ctx: DemoContext, doctors: list[DemoDoctor], equipment) -> int:
    """Past year and coming weeks, in bulk: slots follow each doctor's rules back to back, so
    no two rows of one doctor, room or piece of equipment overlap."""
    rng = ctx.rng
    now = timezone.now()
    patients = [p for p in ctx.patients if p != ctx.demo_patient] or list(ctx.patients)
    left = _lapsed(patients, rng)
    # One in four of the patients who joined through the year came once and not again, so
    # the 90-day retention has someone to miss.
    late = patients[int(len(patients) * EARLY_SHARE) :]
    once = {p.pk for p in late[ONCE_EVERY - 1 :: ONCE_EVERY]}
    # Per visit: who may take it over from a patient who came once (the doctor's stayers).
    takers: list[list[Any]] = []
    registrar = ctx.users.get("registrar")
    clinics_by_id = {c.pk: (slug, c) for slug, c in ctx.clinics.items()}
    # The demo patient gets a few past visits in two clinics.
    demo_visits = dict.fromkeys(("irkutsk-centre", "moscow-arbat"), 0)
    equipment_types = {
        s.pk: [t.slug for t in s.equipment_types.all()]
        for s in Service.objects.prefetch_related("equipment_types")
    }
    appointments: list[Appointment] = []
    extras: list[tuple] = []  # (appointment index, room id, equipment ids, final kind)
    pools: dict[str, list[Any]] = {}
    stayers: dict[str, list[Any]] = {}
    # The patients of before the history, not yet seen in it: they fill its first days, so
    # they do not show as new patients a year ago (the comparison of "new patients" with
    # last year would read as a collapse).
    regulars: dict[str, list[Any]] = {}
    met: set[int] = set()
    for seeded in doctors:
        doctor = seeded.doctor
        if seeded.specialty not in pools:
            pools[seeded.specialty] = [
                p for p in patients if fits(p, seeded.specialty, ctx.today)
            ] or patients
            stayers[seeded.specialty] = [
                p for p in pools[seeded.specialty] if p.pk not in left and p.pk not in once
            ] or pools[seeded.specialty]
            early = pools[seeded.specialty][: int(len(pools[seeded.specialty]) * EARLY_SHARE)]
            regulars[seeded.specialty] = early[::-1]
        pool = pools[seeded.specialty]
        queue = regulars[seeded.specialty]
        stay = stayers[seeded.specialty]
        # Only the one specialist per clinic uses the shared ultrasound room and scanner in
        # the bulk history, so shared rooms and equipment never overlap by construction.
        services = [
            s for s in doctor.services.all() if not s.room_kind or seeded.specialty == "ultrasound"
        ]
        for rule in seeded.rules:
            slug, clinic = clinics_by_id[rule.clinic_id]
            tz = clinic.tz
            for offset in range(-PAST_DAYS, AHEAD_DAYS + 1):
                day = ctx.today + datetime.timedelta(days=offset)
                if day.weekday() != rule.weekday or offset == 0:
                    continue
                # The weeks ahead are as full as the past was, less the visits nobody has
                # booked yet (their booking time, drawn below, would still be to come).
                density = 0.3
                # How far along the year this day is: 0 a year ago (or earlier), 1 now.
                progress = min(1.0, max(0.0, (offset + YEAR_DAYS) / YEAR_DAYS))
                minute = rule.start_time.hour * 60
                end = rule.end_time.hour * 60
                while minute + 30 <= end:
                    start_local = datetime.datetime.combine(
                        day, datetime.time(minute // 60, minute % 60), tzinfo=tz
                    )
                    minute += 30
                    in_break = any(
                        b[0] <= start_local.strftime("%H:%M") < b[1] for b in rule.breaks
                    )
                    if in_break or rng.random() > density:
                        continue
                    starts = start_local.astimezone(UTC)
                    channel = _channel(rng, progress, ahead=offset > 0)
                    if channel == AppointmentChannel.WALK_IN:
                        created = starts - datetime.timedelta(minutes=rng.randint(5, 40))
                    else:
                        created = starts - datetime.timedelta(hours=_lead_hours(rng))
                    if created >= now:
                        continue  # not booked yet: the slot is still free
                    service = rng.choice(services)
                    # The network grows: 40 % of the patients came in the first month of the
                    # history, the rest join through the year (new patients, retention).
                    joined = EARLY_SHARE + (1 - EARLY_SHARE) * min(
                        1.0, (offset + PAST_DAYS) / PAST_DAYS
                    )
                    patient = rng.choice(pool[: max(1, int(len(pool) * joined))])
                    if offset < BEFORE_COMPARED:
                        while queue and queue[-1].pk in met:
                            queue.pop()
                        if queue:
                            patient = queue.pop()
                    if offset > left.get(patient.pk, offset):
                        # A lapsed patient no longer comes: one who stayed takes the time.
                        patient = rng.choice(stay[: max(1, int(len(stay) * joined))])
                    if (
                        offset < -7
                        and ctx.demo_patient is not None
                        and demo_visits.get(slug, 9) < 3
                        and rng.random() < 0.01
                    ):
                        patient = ctx.demo_patient
                        demo_visits[slug] += 1
                    status, kind = _outcome(rng, past=offset < 0)
                    if offset < BEFORE_COMPARED and patient != ctx.demo_patient:
                        if status == S.COMPLETED:
                            met.add(patient.pk)
                        elif patient.pk not in met:
                            queue.insert(0, patient)  # seen in the history once they came
                    a = Appointment(
                        patient=patient,
                        doctor=doctor,
                        clinic=clinic,
                        service=service,
                        room_id=rule.room_id,
                        starts_at=starts,
                        ends_at=starts + datetime.timedelta(minutes=service.duration_minutes),
                        status=status,
                        channel=channel,
                        price=service.price,
                        # Online visits are booked by the patients themselves.
                        booked_by=None if channel == AppointmentChannel.ONLINE else registrar,
                        created_at=created,
                        updated_at=created,
                    )
                    _stamp(a, status, starts, created, rng, now)
                    appointments.append(a)
                    eq_ids = [equipment[(slug, t)].pk for t in equipment_types[service.pk]]
                    extras.append((len(appointments) - 1, rule.room_id, eq_ids, kind))
                    takers.append(stay[: max(1, int(len(stay) * joined))])
    _came_once(appointments, takers, once, rng)
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    occupancy: list[Occupancy] = []
    events: list[AppointmentEvent] = []
    audit: list[AuditEvent] = []
    through = Appointment.equipment.through
    links: list[Any] = []
    # Rolled-back visits, the index of their booking event, when they were undone.
    undone: list[tuple[Appointment, int, datetime.datetime]] = []
    for index, room_id, eq_ids, kind in extras:
        a = appointments[index]
        links.extend(through(appointment_id=a.pk, equipment_id=e) for e in eq_ids)
        if a.status not in (S.CANCELLED, S.ROLLED_BACK):
            occupancy.extend(visit_occupancy(a, room_id, eq_ids))
        if a.status == S.ROLLED_BACK and a.rolled_back_at is not None:
            undone.append((a, len(events), a.rolled_back_at))
        events.append(
            AppointmentEvent(
                appointment_id=a.pk,
                kind="booked",
                from_status="",
                to_status=S.BOOKED,
                actor=a.booked_by,
                occurred_at=a.created_at,
            )
        )
        if kind:
            events.append(
                AppointmentEvent(
                    appointment_id=a.pk,
                    kind=kind,
                    from_status=S.BOOKED,
                    to_status=a.status,
                    actor=registrar,
                    occurred_at=a.updated_at,
                    reason=a.cancel_reason,
                )
            )
        audit.append(booking_audit(a))
    through.objects.bulk_create(links, batch_size=2000)
    Occupancy.objects.bulk_create(occupancy, batch_size=2000)
    AppointmentEvent.objects.bulk_create(events, batch_size=2000)
    RollbackRecord.objects.bulk_create(
        RollbackRecord(
            appointment_id=a.pk,
            undone_event_id=events[index].pk,
            kind=RollbackRecord.Kind.BOOKING,
            clinic_id=a.clinic_id,
            actor=registrar,
            reason=rng.choice(["Не тот врач", "Не та пациентка", "Ошибся датой", ""]),
            occurred_at=when,
        )
        for a, index, when in undone
    )
    audit_record_many(audit)
    return len(appointments)


def _came_once(
    appointments: list[Appointment], takers: list[list[Any]], once: set[int], rng: Any
) -> None:
    """Give the visits of a patient who came `once` after their first completed one to
    someone who stayed."""
    came: set[int] = set()
    for index in sorted(range(len(appointments)), key=lambda i: appointments[i].starts_at):
        a = appointments[index]
        if a.patient.pk not in once:
            continue
        if a.patient.pk in came:
            a.patient = rng.choice(takers[index])
        elif a.status == S.COMPLETED:
            came.add(a.patient.pk)


def _outcome(rng, *, past: bool) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.004:
        # A wrong booking the registrar undid with the red button within minutes.
        return S.ROLLED_BACK, "rolled_back"
    if roll < 0.12:
        return S.CANCELLED, "cancelled"
    if not past:
        return (S.CONFIRMED, "confirmed") if roll < 0.4 else (S.BOOKED, "")
    if roll < 0.19:
        return S.NO_SHOW, "no_show"
    return S.COMPLETED, "completed"


YEAR_DAYS = 365
# The history's days before the ones a comparison with last year reads (a 30-day period).
BEFORE_COMPARED = -YEAR_DAYS - 30
# The share of visits booked online a year ago and now (the portal's story: 38 % -> 62 %, with
# the waiting list's fills on top); one in five of the rest walked in, the others phoned.
ONLINE_THEN = 0.35
ONLINE_NOW = 0.61
WALK_IN_SHARE = 0.2


def _channel(rng: Any, progress: float, *, ahead: bool) -> str:
    """The channel of a visit `progress` of the way through the year (0 a year ago, 1 now)."""
    if rng.random() < ONLINE_THEN + (ONLINE_NOW - ONLINE_THEN) * progress:
        return AppointmentChannel.ONLINE
    if rng.random() < WALK_IN_SHARE and not ahead:  # nobody walks in ahead of time
        return AppointmentChannel.WALK_IN
    return AppointmentChannel.PHONE


def _lead_hours(rng: Any) -> int:
    """How long before the visit it was booked: from the day before to a few weeks ahead
    (median about a week, one in ten over three weeks), the same for the past and the weeks
    ahead, so a month's bookings match a month's visits."""
    return min(60 * 24, max(18, round(rng.lognormvariate(0, 0.8) * 7 * 24)))


# Children see these specialists too; the rest of the demo's specialists see adults.
CHILDREN_ALSO = frozenset({"ent", "ophthalmologist", "dermatologist", "ultrasound"})


def _lapsed(patients: list[Any], rng: Any) -> dict[int, int]:
    """Patients who stopped coming, each with the last day they came (days from today, 200 to
    340 days ago): every fourth of the first 40 % (those who came from the history's first
    month), so a "no visit for half a year" segment has people in it to invite back."""
    early = patients[: int(len(patients) * EARLY_SHARE)]
    return {p.pk: -rng.randint(200, 340) for p in early[LAPSED_EVERY - 1 :: LAPSED_EVERY]}


def visit_occupancy(visit: Appointment, room_id: int | None, eq_ids: list[int]) -> list[Occupancy]:
    """The occupancy rows of a demo visit: its doctor, its room (if any) and its devices."""
    spans = [(ResourceKind.DOCTOR, visit.doctor_id)]
    if room_id:
        spans.append((ResourceKind.ROOM, room_id))
    spans += [(ResourceKind.EQUIPMENT, e) for e in eq_ids]
    return [
        Occupancy(
            resource_kind=kind,
            resource_id=resource,
            clinic_id=visit.clinic_id,
            starts_at=visit.starts_at,
            ends_at=visit.ends_at,
            appointment_id=visit.pk,
        )
        for kind, resource in spans
    ]


def booking_audit(visit: Appointment) -> AuditEvent:
    """The audit row of a demo visit's booking, as the booking service would have written it."""
    return AuditEvent(
        occurred_at=visit.created_at,
        actor_id=visit.booked_by.pk if visit.booked_by else None,
        actor_public_id=str(visit.booked_by.public_id) if visit.booked_by else "",
        # An online visit: the patient booked it (the demo's patients have no login).
        role=Role.REGISTRAR if visit.booked_by else PATIENT_ROLE,
        clinic_id=visit.clinic_id,
        action=AuditAction.CREATE,
        object_type="scheduling.appointment",
        object_id=str(visit.public_id),
        patient_ids=[str(visit.patient.public_id)],
        changed_fields=["clinic", "doctor", "service", "starts_at", "status"],
    )


def fits(patient: Any, specialty: str, today: datetime.date) -> bool:
    """Whether the demo would send `patient` to a `specialty` (no boy at a gynaecologist)."""
    age = age_on(patient.birth_date, today)
    if specialty == "pediatrician":
        return age is not None and age < 18
    if age is not None and age < 18 and specialty not in CHILDREN_ALSO:
        return False
    if specialty == "gynecologist":
        return patient.sex == "female"
    if specialty == "urologist":
        return patient.sex == "male"
    return True


def _stamp(a: Appointment, status: str, starts, created, rng, now) -> None:
    if status == S.CANCELLED:
        hours_before = rng.choice([2, 5, 30, 48, 72])
        a.cancelled_at = min(max(created, starts - datetime.timedelta(hours=hours_before)), now)
        # Late as the engine counts it (`is_late_cancel`, the default 24-hour window): inside
        # the window, for a visit that was booked before it opened.
        a.late_cancel = hours_before < 24 and starts - created >= datetime.timedelta(hours=24)
        a.cancel_reason = rng.choice(["Заболел", "Изменились планы", "Перенесу позже", ""])
        a.updated_at = a.cancelled_at
    elif status == S.ROLLED_BACK:
        a.rolled_back_at = created + datetime.timedelta(minutes=rng.randint(1, 9))
        a.updated_at = a.rolled_back_at
    elif status == S.COMPLETED:
        a.checked_in_at = starts - datetime.timedelta(minutes=10)
        a.completed_at = a.ends_at
        a.updated_at = a.completed_at
    elif status == S.NO_SHOW:
        a.no_show_at = a.ends_at
        a.updated_at = a.no_show_at
    elif status == S.CONFIRMED:
        a.confirmed_at = created
        a.updated_at = created
