"""Read paths of calls: the caller panel a registrar's browser polls, and the calls page.

The panel is polled every few seconds by every registrar, so it costs a fixed handful of
queries whatever the number of lines, calls or patients: the active call, the patients with
the caller's number, their upcoming visits counted in one grouped query, and (once per call
and registrar) the audit event of the read.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from portal import permissions
from portal.choices import AuditAction
from portal.models import Clinic, Patient
from portal.normalize import format_phone
from portal.selectors.patients import patients_with_phone_index
from portal.services.audit import audit_record
from scheduling.selectors.appointments import appointment_list
from telephony.choices import CallDirection, CallState
from telephony.models import Call, CallbackRequest, LineAnswerer
from telephony.permissions import callbacks_visible_to, calls_visible_to, require_answerer

# Patients shown for one number (a family often shares one phone).
MATCH_LIMIT = 5
# Nobody lets a phone ring this long: an older ring lost its end event.
RINGING_SHOWN_MINUTES = 10
AUDIT_OBJECT_TYPE = "portal.patient"


@dataclass(frozen=True)
class CallerMatch:
    patient: Patient
    age: int | None
    upcoming_visits: int


@dataclass(frozen=True)
class CallerPanel:
    call: Call | None
    number: str = ""
    matches: list[CallerMatch] = field(default_factory=list)
    other_active: int = 0
    can_register: bool = False


def age_on(born: datetime.date | None, today: datetime.date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def active_calls_for(user: Any, *, now: datetime.datetime, limit: int = 3) -> list[Call]:
    """The ringing and answered calls on `user`'s caller panel, theirs first, newest first.

    A ringing call shows to the line's answerers (every answerer of the clinic when the line
    names none); once answered, only to whoever answered it, when we know who did.
    """
    oldest = now - datetime.timedelta(hours=settings.TELEPHONY_MAX_CALL_HOURS)
    # A ring whose end never arrived (a lost event) must not stay on the panel for hours.
    ring_oldest = now - datetime.timedelta(minutes=RINGING_SHOWN_MINUTES)
    answers_line = Exists(LineAnswerer.objects.filter(line=OuterRef("line"), user=user))
    line_has_answerers = Exists(LineAnswerer.objects.filter(line=OuterRef("line")))
    calls = list(
        calls_visible_to(user)
        .filter(
            Q(state=CallState.ANSWERED, started_at__gte=oldest)
            | Q(state=CallState.RINGING, started_at__gte=ring_oldest),
            direction=CallDirection.INBOUND,
            line__is_active=True,
        )
        .filter(
            Q(answered_by=user)
            | (Q(answered_by__isnull=True) & (answers_line | ~line_has_answerers))
        )
        .select_related("line__clinic", "patient")
        .order_by("-started_at")[:limit]
    )
    calls.sort(key=lambda call: call.answered_by_id != user.pk)
    return calls


def caller_panel(*, user: Any, now: datetime.datetime | None = None) -> CallerPanel:
    """What the registrar's caller panel shows now (403 without `telephony.answer`)."""
    require_answerer(user)
    now = now or timezone.now()
    calls = active_calls_for(user, now=now)
    if not calls:
        return CallerPanel(call=None)
    call = calls[0]
    patients = patients_with_phone_index(phone_bidx=call.from_bidx, limit=MATCH_LIMIT)
    matches = []
    if patients and permissions.has_capability(user, "patient.view_card"):
        counts = _upcoming_counts(user, patients)
        today = timezone.localdate(now)
        matches = [
            CallerMatch(
                patient=p, age=age_on(p.birth_date, today), upcoming_visits=counts.get(p.pk, 0)
            )
            for p in patients
        ]
        _audit_once(user, call, patients)
    return CallerPanel(
        call=call,
        number=format_phone(call.from_number),
        matches=matches,
        other_active=len(calls) - 1,
        can_register=not matches
        and bool(call.from_number)
        and permissions.has_capability(user, "patient.create"),
    )


def _upcoming_counts(user: Any, patients: list[Patient]) -> dict[int, int]:
    """Upcoming visits per patient that `user` may see, in one grouped query."""
    rows = (
        appointment_list(user=user, when="upcoming")
        .filter(patient__in=patients)
        .order_by()
        .values("patient_id")
        .annotate(visits=Count("id"))
    )
    return {row["patient_id"]: row["visits"] for row in rows}


def _audit_once(user: Any, call: Call, patients: list[Patient]) -> None:
    """Showing who is calling is a read of those profiles: one audit event per call and
    registrar, not one per poll."""
    if cache.add(f"telephony:caller-read:{call.pk}:{user.pk}", 1, timeout=12 * 3600):
        audit_record(
            actor=user,
            action=AuditAction.SEARCH,
            object_type=AUDIT_OBJECT_TYPE,
            patient_ids=[p.public_id for p in patients],
            changed_fields=["phone_bidx"],
            clinic=call.line.clinic_id,
        )


@dataclass(frozen=True)
class CallbackRow:
    callback: CallbackRequest
    number: str
    overdue: bool


@dataclass(frozen=True)
class CallsPage:
    callbacks: list[CallbackRow]
    calls: list[Call]
    total: int
    answered: int
    missed: int
    average_answer_seconds: int | None


CALLBACK_LIMIT = 100
CALLS_LIMIT = 300


def calls_page(*, user: Any, now: datetime.datetime | None = None) -> CallsPage:
    """The open callback queue (due first) and today's calls in the reader's time zone."""
    require_answerer(user)
    now = now or timezone.now()
    callbacks = list(
        callbacks_visible_to(user)
        .filter(done_at__isnull=True)
        .select_related("call__patient", "call__line", "clinic")
        .order_by("due_at")[:CALLBACK_LIMIT]
    )
    day_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    calls = list(
        calls_visible_to(user)
        .filter(started_at__gte=day_start)
        .select_related("line__clinic", "patient", "answered_by")
        .order_by("-started_at")[:CALLS_LIMIT]
    )
    shown = {p for p in [cb.call.patient for cb in callbacks] + [c.patient for c in calls] if p}
    if shown:
        audit_record(
            actor=user,
            action=AuditAction.LIST,
            object_type=AUDIT_OBJECT_TYPE,
            patient_ids=sorted(str(p.public_id) for p in shown),
            changed_fields=["calls"],
        )
    answer_times = [c.answer_seconds for c in calls if c.answer_seconds is not None]
    return CallsPage(
        callbacks=[
            CallbackRow(cb, format_phone(cb.call.from_number), cb.due_at <= now) for cb in callbacks
        ],
        calls=calls,
        total=len(calls),
        answered=sum(1 for c in calls if c.answered_at is not None),
        missed=sum(1 for c in calls if c.missed),
        average_answer_seconds=round(sum(answer_times) / len(answer_times))
        if answer_times
        else None,
    )


QUEUE_CALLBACK_LIMIT = 20


@dataclass(frozen=True)
class CallbackQueue:
    rows: list[CallbackRow]
    total: int  # open callbacks, of which `rows` shows the most urgent


def open_callbacks(*, user: Any, now: datetime.datetime | None = None) -> CallbackQueue:
    """The most urgent open callbacks of the user's lines (due first), for the desk's queues
    page; showing the callers' names is audited like the calls page."""
    require_answerer(user)
    now = now or timezone.now()
    open_ones = callbacks_visible_to(user).filter(done_at__isnull=True)
    callbacks = list(
        open_ones.select_related("call__patient", "call__line", "clinic").order_by("due_at")[
            :QUEUE_CALLBACK_LIMIT
        ]
    )
    shown = {cb.call.patient for cb in callbacks if cb.call.patient}
    if shown:
        audit_record(
            actor=user,
            action=AuditAction.LIST,
            object_type=AUDIT_OBJECT_TYPE,
            patient_ids=sorted(str(p.public_id) for p in shown),
            changed_fields=["callbacks"],
        )
    total = len(callbacks) if len(callbacks) < QUEUE_CALLBACK_LIMIT else open_ones.count()
    return CallbackQueue(
        rows=[
            CallbackRow(cb, format_phone(cb.call.from_number), cb.due_at <= now) for cb in callbacks
        ],
        total=total,
    )


def open_callback_counts(
    *, user: Any, clinic: Clinic, now: datetime.datetime | None = None
) -> tuple[int, int]:
    """(open, overdue) callbacks of the clinic among the user's lines, for the day board's
    queue strip (counts only: no names shown, nothing audited)."""
    now = now or timezone.now()
    open_ones = callbacks_visible_to(user).filter(done_at__isnull=True, clinic=clinic)
    counts = open_ones.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_at__lte=now)))
    return counts["total"], counts["overdue"]
