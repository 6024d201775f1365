"""Read paths of the leave decisions: the requests a head nurse or clinic admin decides, with
the visits each would touch, and the one request a decision is about.

Scoped by `schedule.manage`: a request of a clinic the user manages, or a request for every
clinic of a doctor who works in one of them. Anything else is unknown (404).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from portal import permissions
from portal.models import Clinic
from scheduling.choices import AppointmentStatus, LeaveKind, LeaveStatus
from scheduling.models import Appointment, Doctor, LeaveRequest

CAPABILITY = "schedule.manage"
WAITING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
PENDING_LIMIT = 100
DECIDED_LIMIT = 20


def leave_requests_visible_to(user: Any) -> QuerySet[LeaveRequest]:
    """Leave requests of the clinics where `user` manages the schedule."""
    qs = LeaveRequest.objects.select_related("doctor", "clinic", "substitute", "decided_by")
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    if ids is None:
        return qs
    return qs.filter(
        Q(clinic_id__in=ids) | Q(clinic__isnull=True, doctor__clinics__in=ids)
    ).distinct()


def get_leave_request_for_user(user: Any, pk: int) -> LeaveRequest:
    """The request `pk` if `user` may decide requests of its clinic; 403 for those who decide
    none anywhere, 404 for an unknown or foreign one."""
    permissions.require_capability(user, CAPABILITY)
    found = leave_requests_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class LeaveRow:
    request: LeaveRequest
    affected: int  # waiting visits on those days
    own: bool  # the user's own request: someone else decides it
    substitutes: list[Doctor]  # whom a substitution may go to
    # The user manages the schedule in every clinic the request concerns, so may decide it.
    can_decide: bool = False


def _affected_counts(requests: list[LeaveRequest]) -> dict[int, int]:
    """Waiting visits of each request's doctor on its days, in one query."""
    if not requests:
        return {}
    first = min(r.date_from for r in requests) - datetime.timedelta(days=1)
    last = max(r.date_to for r in requests) + datetime.timedelta(days=2)
    visits = Appointment.objects.filter(
        doctor_id__in={r.doctor_id for r in requests},
        status__in=WAITING_STATUSES,
        starts_at__gte=datetime.datetime.combine(first, datetime.time.min, tzinfo=datetime.UTC),
        starts_at__lt=datetime.datetime.combine(last, datetime.time.min, tzinfo=datetime.UTC),
    ).select_related("clinic")
    by_doctor: dict[int, list[tuple[int, datetime.date]]] = defaultdict(list)
    for visit in visits:
        local_day = visit.starts_at.astimezone(visit.clinic.tz).date()
        by_doctor[visit.doctor_id].append((visit.clinic_id, local_day))
    counts = {}
    for r in requests:
        counts[r.pk] = sum(
            1
            for clinic_id, day in by_doctor[r.doctor_id]
            if r.date_from <= day <= r.date_to and (r.clinic_id in (None, clinic_id))
        )
    return counts


def leave_requests_to_decide(*, user: Any) -> list[LeaveRow]:
    """Pending requests of the user's clinics, soonest first, with the visits each touches and
    the doctors a substitution may go to."""
    permissions.require_capability(user, CAPABILITY)
    pending = list(
        leave_requests_visible_to(user)
        .filter(status=LeaveStatus.PENDING)
        .order_by("date_from", "pk")[:PENDING_LIMIT]
    )
    counts = _affected_counts(pending)
    doctors = list(
        Doctor.objects.filter(is_active=True)
        .prefetch_related(
            Prefetch("clinics", queryset=Clinic.objects.filter(is_active=True)), "specialties"
        )
        .order_by("last_name", "first_name")
    )
    clinics_of = {d.pk: {c.pk for c in d.clinics.all()} for d in doctors}
    specialties_of = {d.pk: {s.pk for s in d.specialties.all()} for d in doctors}
    managed = permissions.clinic_ids_with(user, CAPABILITY)
    rows = []
    for r in pending:
        concerned = {r.clinic_id} if r.clinic_id else clinics_of.get(r.doctor_id, set())
        own = r.doctor.user_id == user.pk
        substitutes: list[Doctor] = []
        if r.kind == LeaveKind.SUBSTITUTION:
            substitutes = substitutes_for(
                r.doctor_id,
                concerned,
                doctors,
                clinics_of=clinics_of,
                specialties_of=specialties_of,
            )
        rows.append(
            LeaveRow(
                request=r,
                affected=counts[r.pk],
                own=own,
                substitutes=substitutes,
                can_decide=not own
                and bool(concerned)
                and (managed is None or concerned <= managed),
            )
        )
    return rows


def substitutes_for(
    doctor_id: int,
    clinic_ids: set[int],
    doctors: list[Doctor],
    *,
    clinics_of: dict[int, set[int]],
    specialties_of: dict[int, set[int]],
) -> list[Doctor]:
    """Doctors who may stand in: another doctor sharing a specialty with the absent one and
    working in every clinic the request concerns (the visits stay where they are)."""
    wanted = specialties_of.get(doctor_id, set())
    return [
        d
        for d in doctors
        if d.pk != doctor_id and specialties_of[d.pk] & wanted and clinic_ids <= clinics_of[d.pk]
    ]


def leave_requests_decided(*, user: Any) -> list[LeaveRequest]:
    """The latest decisions in the user's clinics, newest first."""
    permissions.require_capability(user, CAPABILITY)
    return list(
        leave_requests_visible_to(user)
        .exclude(status=LeaveStatus.PENDING)
        .order_by("-decided_at", "-pk")[:DECIDED_LIMIT]
    )
