"""The cancellation waitlist simulated over days (`manage.py simulate_waitlist`).

Drives the real services with a simulated clock, passed to each as `now`: visits are booked
and cancelled through the engine (`appointment_book`, `appointment_cancel`), the freed time
goes to `waitlist_slot_freed` (what the task after the cancellation runs), patients answer
through `waitlist_offer_reply` (what an SMS "ДА"/"НЕТ" runs) and the periodic
`waitlist_offers_advance` runs on the beat's cadence. Every cell of the grid (waitlist depth ×
reply probability) runs in a transaction that is rolled back, so each starts from the same
network. Run it only on a throw-away copy of the data: the command makes one.
"""

from __future__ import annotations

import datetime
import functools
import heapq
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.models import Clinic, Patient
from scheduling.choices import AppointmentChannel, BookingMode, FreedSlotStatus, WaitlistStatus
from scheduling.errors import BookingError
from scheduling.models import Doctor, FreedSlot, Service, WaitlistEntry, WaitlistOffer
from scheduling.selectors.availability import MAX_RANGE_DAYS, free_slots
from scheduling.selectors.policy import policy_for
from scheduling.services.booking import appointment_book, appointment_cancel
from scheduling.services.waitlist import waitlist_join
from scheduling.services.waitlist_offers import (
    waitlist_offer_reply,
    waitlist_offers_advance,
    waitlist_slot_freed,
)

FILL_WINDOW = datetime.timedelta(hours=2)
TARGET_FILL_RATE = 0.8  # seed 003: ≥ 80 % of cancellations filled within 2 hours
# Room for the waitlist entries' dates: the days simulated plus the longest lead.
MAX_DAYS = MAX_RANGE_DAYS - 9
REGULAR_PATIENTS = 20  # whose visits get cancelled; never on a waitlist


@dataclass(frozen=True)
class Assumptions:
    """What the simulation takes as given (printed with every result, README)."""

    days: int = 30
    # Network-wide cancellations per day (Poisson), at a uniformly random local time of day
    # between cancel_from and cancel_to, for a visit starting lead_min to lead_max hours later.
    cancellations_per_day: float = 2.0
    cancel_from: int = 7
    cancel_to: int = 21
    lead_min_hours: float = 2.0
    lead_max_hours: float = 168.0
    # A patient offered a slot answers with the cell's reply probability; an answer is YES this
    # often, and comes after an exponentially distributed delay with this mean.
    yes_share: float = 0.75
    reply_delay_mean_minutes: float = 4.0
    # How many waitlists (clinic × service) the cancellations fall on.
    waitlists: int = 4
    # The beat runs `waitlist_offers_advance` this often (CELERY_BEAT_SCHEDULE).
    beat_seconds: int = 30
    seed: int = 3

    def lines(self) -> list[str]:
        return [
            f"days simulated: {self.days}; random seed: {self.seed}",
            f"cancellations: {self.cancellations_per_day:g} a day over {self.waitlists} "
            f"waitlists (clinic × service), Poisson, at a uniform local time "
            f"{self.cancel_from:02d}:00–{self.cancel_to:02d}:00, for a visit "
            f"{self.lead_min_hours:g}–{self.lead_max_hours:g} h ahead",
            f"replies: each offered patient answers with the cell's probability, YES in "
            f"{self.yes_share:.0%} of answers, after an exponential delay of mean "
            f"{self.reply_delay_mean_minutes:g} min (answers after the hold find it expired)",
            f"offers: {settings.WAITLIST_BATCH_SIZE} at a time, held "
            f"{settings.WAITLIST_OFFER_MINUTES} min; the clinic's contact hours apply; the "
            f"expiry runs every {self.beat_seconds} s",
            "depth: patients waiting on each list; each one booked is replaced by a newcomer",
        ]


@dataclass
class CellResult:
    depth: int
    reply_probability: float
    cancellations: int = 0
    filled: int = 0
    filled_in_window: int = 0
    unfilled: int = 0
    offers: int = 0
    # How the freed slots ended: filled, unfilled, gone (the time was no longer free), offering.
    outcomes: dict[str, int] = field(default_factory=dict)
    fill_minutes: list[float] = field(default_factory=list)

    @property
    def fill_rate(self) -> float:
        return self.filled_in_window / self.cancellations if self.cancellations else 0.0

    @property
    def median_fill_minutes(self) -> float | None:
        if not self.fill_minutes:
            return None
        ordered = sorted(self.fill_minutes)
        return ordered[len(ordered) // 2]


@dataclass(frozen=True)
class Waitlist:
    clinic: Clinic
    service: Service


@dataclass(order=True)
class _Event:
    at: datetime.datetime
    seq: int
    action: Callable[[datetime.datetime], None] = field(compare=False)


class _Run:
    """One cell: one depth, one reply probability, the whole simulated period."""

    def __init__(
        self,
        *,
        assumptions: Assumptions,
        waitlists: Sequence[Waitlist],
        patients: Sequence[Patient],
        depth: int,
        reply_probability: float,
        start: datetime.datetime,
    ) -> None:
        self.a = assumptions
        self.waitlists = waitlists
        self.depth = depth
        self.p = reply_probability
        self.start = start
        self.regulars = list(patients[:REGULAR_PATIENTS])
        self.newcomers = list(patients[REGULAR_PATIENTS:])
        # The same cancellations in every cell; the replies drawn per cell.
        # A model's draws, not secrets.
        self.world = random.Random(f"{assumptions.seed}:world")  # noqa: S311
        self.replies = random.Random(f"{assumptions.seed}:{depth}:{reply_probability}")  # noqa: S311
        self.events: list[_Event] = []
        self.seq = 0
        self.last_offer_id: int = (
            WaitlistOffer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        self.first_slot_id = (
            FreedSlot.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        )
        self.cancellations = 0

    # --- the event queue --------------------------------------------------------------------

    def push(self, at: datetime.datetime, action: Callable[[datetime.datetime], None]) -> None:
        self.seq += 1
        heapq.heappush(self.events, _Event(at, self.seq, action))

    def run(self) -> CellResult:
        today = timezone.localdate(self.start)
        for waitlist in self.waitlists:
            self._fill_list(waitlist, now=self.start)
        for day in range(1, self.a.days + 1):
            for _n in range(_poisson(self.world, self.a.cancellations_per_day)):
                waitlist = self.world.choice(self.waitlists)
                local = datetime.datetime.combine(
                    today + datetime.timedelta(days=day), datetime.time(), tzinfo=waitlist.clinic.tz
                )
                at = local + datetime.timedelta(
                    hours=self.world.uniform(self.a.cancel_from, self.a.cancel_to)
                )
                lead = datetime.timedelta(
                    hours=self.world.uniform(self.a.lead_min_hours, self.a.lead_max_hours)
                )
                pick = self.world.random()
                self.push(
                    at.astimezone(datetime.UTC),
                    functools.partial(self._cancel, waitlist, lead=lead, pick=pick),
                )
        end = self.start + datetime.timedelta(days=self.a.days + 9)
        while True:
            # The beat's next run with work to do, or the next cancellation or reply.
            tick = self._next_tick()
            upcoming = self.events[0].at if self.events else end
            if tick is not None and tick <= min(upcoming, end):
                waitlist_offers_advance(now=tick)
                self._after(tick)
            elif self.events:
                event = heapq.heappop(self.events)
                event.action(event.at)
                self._after(event.at)
            else:
                return self._result()

    def _next_tick(self) -> datetime.datetime | None:
        """When the beat's `waitlist_offers_advance` (every beat_seconds) next finds work."""
        due = (
            FreedSlot.objects.filter(status=FreedSlotStatus.OFFERING)
            .order_by("next_step_at")
            .values_list("next_step_at", flat=True)
            .first()
        )
        if due is None:
            return None
        beat = datetime.timedelta(seconds=self.a.beat_seconds)
        return self.start + beat * math.ceil((due - self.start) / beat)

    # --- what happens -----------------------------------------------------------------------

    def _cancel(
        self,
        waitlist: Waitlist,
        now: datetime.datetime,
        *,
        lead: datetime.timedelta,
        pick: float,
    ) -> None:
        """A visit about `lead` ahead is booked and, now, cancelled; its time is offered."""
        earliest = now + datetime.timedelta(hours=self.a.lead_min_hours)
        target = now + lead
        first = timezone.localdate(earliest, waitlist.clinic.tz)
        slots = [
            slot
            for slot in free_slots(
                service=waitlist.service,
                clinic=waitlist.clinic,
                channel=AppointmentChannel.PHONE,
                start_date=first,
                end_date=timezone.localdate(target, waitlist.clinic.tz) + datetime.timedelta(1),
                now=now,
            )
            if earliest <= slot.start.astimezone(datetime.UTC) <= target + datetime.timedelta(1)
        ]
        if not slots:
            return
        slot = min(slots, key=lambda s: abs(s.start.astimezone(datetime.UTC) - target))
        patient = self.regulars[int(pick * len(self.regulars))]
        try:
            with transaction.atomic():
                appointment = appointment_book(
                    patient=patient,
                    doctor=_doctor(slot.doctor_id),
                    service=waitlist.service,
                    start=slot.start,
                    channel=AppointmentChannel.PHONE,
                    actor=None,
                    clinic=waitlist.clinic,
                    notify=False,
                    now=now,
                )
                appointment_cancel(appointment=appointment, actor=None, reason="simulated", now=now)
        except BookingError:
            return
        self.cancellations += 1
        waitlist_slot_freed(appointment_id=appointment.pk, now=now)

    def _after(self, now: datetime.datetime) -> None:
        """Replies to the offers just sent, drawn now; lists topped up to their depth."""
        for offer in WaitlistOffer.objects.filter(pk__gt=self.last_offer_id).order_by("pk"):
            self.last_offer_id = offer.pk
            if self.replies.random() >= self.p:
                continue
            accept = self.replies.random() < self.a.yes_share
            delay = self.replies.expovariate(1 / self.a.reply_delay_mean_minutes)
            self.push(
                offer.sent_at + datetime.timedelta(minutes=delay),
                functools.partial(self._reply, offer.patient, accept=accept),
            )
        for waitlist in self.waitlists:
            self._fill_list(waitlist, now=now)

    @staticmethod
    def _reply(patient: Patient, now: datetime.datetime, *, accept: bool) -> None:
        """The patient's SMS answer, as the inbound SMS path hands it over."""
        waitlist_offer_reply(patient=patient, accept=accept, channel="sms", now=now)

    def _fill_list(self, waitlist: Waitlist, *, now: datetime.datetime) -> None:
        waiting = WaitlistEntry.objects.filter(
            status=WaitlistStatus.ACTIVE, service=waitlist.service, clinic=waitlist.clinic
        ).count()
        for _n in range(self.depth - waiting):
            if not self.newcomers:
                raise SimulationError("too few patients in the copy for this depth")
            first = max(timezone.localdate(), timezone.localdate(now, waitlist.clinic.tz))
            waitlist_join(
                patient=self.newcomers.pop(),
                service=waitlist.service,
                clinic=waitlist.clinic,
                date_from=first,
                date_to=first + datetime.timedelta(days=MAX_RANGE_DAYS - 1),
                actor=None,
            )

    def _result(self) -> CellResult:
        result = CellResult(depth=self.depth, reply_probability=self.p)
        result.cancellations = self.cancellations
        slots = FreedSlot.objects.filter(pk__gt=self.first_slot_id)
        for status, freed_at, closed_at in slots.values_list("status", "freed_at", "closed_at"):
            result.outcomes[status] = result.outcomes.get(status, 0) + 1
            if status == FreedSlotStatus.FILLED and closed_at is not None:
                result.filled += 1
                waited = closed_at - freed_at
                result.fill_minutes.append(waited.total_seconds() / 60)
                result.filled_in_window += waited <= FILL_WINDOW
            elif status == FreedSlotStatus.UNFILLED:
                result.unfilled += 1
        result.offers = WaitlistOffer.objects.filter(slot__in=slots).count()
        return result


class SimulationError(Exception):
    pass


def _doctor(pk: int) -> Doctor:
    return Doctor.objects.get(pk=pk)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth), for a small mean."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def pick_waitlists(*, count: int, now: datetime.datetime) -> list[Waitlist]:
    """The clinic × service pairs with the most bookable time in the coming week, one service
    per clinic first, so the lists spread over the network. Clinics in request mode are left
    out: their time is booked by staff from requests, not offered to the waitlist."""
    found: list[tuple[int, Waitlist]] = []
    for clinic in Clinic.objects.order_by("pk"):
        if policy_for(clinic).mode != BookingMode.NATIVE:
            continue
        for service in Service.objects.filter(is_active=True).order_by("pk"):
            slots = free_slots(
                service=service,
                clinic=clinic,
                channel=AppointmentChannel.PHONE,
                start_date=timezone.localdate(now, clinic.tz),
                end_date=timezone.localdate(now, clinic.tz) + datetime.timedelta(days=7),
                now=now,
            )
            if slots:
                found.append((len(slots), Waitlist(clinic=clinic, service=service)))
    found.sort(key=lambda pair: -pair[0])
    chosen: list[Waitlist] = []
    for _size, waitlist in found:
        if all(w.clinic != waitlist.clinic for w in chosen):
            chosen.append(waitlist)
    for _size, waitlist in found:
        if waitlist not in chosen:
            chosen.append(waitlist)
    return chosen[:count]


def simulate(
    *,
    assumptions: Assumptions,
    depths: Sequence[int],
    reply_probabilities: Sequence[float],
    progress: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Every cell of depths × reply probabilities, each from the same state (rolled back)."""
    start = timezone.now().replace(microsecond=0)
    waitlists = pick_waitlists(count=assumptions.waitlists, now=start)
    if not waitlists:
        raise SimulationError("no bookable time in the copy of the network")
    patients = list(Patient.objects.filter(anonymised_at__isnull=True).order_by("pk"))
    random.Random(f"{assumptions.seed}:patients").shuffle(patients)  # noqa: S311
    results = []
    for depth in depths:
        for probability in reply_probabilities:
            with transaction.atomic():
                result = _Run(
                    assumptions=assumptions,
                    waitlists=waitlists,
                    patients=patients,
                    depth=depth,
                    reply_probability=probability,
                    start=start,
                ).run()
                transaction.set_rollback(True)
            results.append(result)
            if progress is not None:
                progress(result)
    return results


def depth_reaching_target(
    results: Sequence[CellResult], probability: float, target: float = TARGET_FILL_RATE
) -> int | None:
    """The smallest depth whose fill rate within 2 hours reaches `target` at `probability`."""
    reaching = [
        r.depth
        for r in results
        if r.reply_probability == probability and r.cancellations and r.fill_rate >= target
    ]
    return min(reaching) if reaching else None
