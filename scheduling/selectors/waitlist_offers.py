"""Reads of the cancellation waitlist's offers: who fits a freed slot and in what order (seed
003's score), and what the staff page shows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from notifications.models import OutboxMessage
from portal import permissions
from portal.choices import ConsentPurpose
from portal.models import Clinic, Consent
from portal.selectors.contact import patients_out_of_reach
from scheduling.choices import (
    UPCOMING_STATUSES,
    FreedSlotOrigin,
    FreedSlotStatus,
    WaitlistOfferStatus,
    WaitlistStatus,
)
from scheduling.models import (
    Appointment,
    Doctor,
    FreedSlot,
    Service,
    Specialty,
    WaitlistEntry,
    WaitlistOffer,
)
from scheduling.selectors.catalogue import get_by_public_id

# Staff of a clinic run its waitlist: those who cancel and move its visits.
STAFF_CAPABILITY = "appointment.manage"
URGENT_POINTS = 30
# Days until the patient's current visit of the service → points (seed 003).
WAIT_POINTS = ((180, 20), (90, 10), (30, 5))
SENIORITY_DAYS = 30
MAX_SENIORITY_POINTS = 10
# Refusing either consent stops offers, as it stops reminders (ECOSYSTEM.md).
STOPPING_CONSENTS = (ConsentPurpose.SERVICE_NOTIFICATIONS, ConsentPurpose.PERSONAL_DATA)
LEADERBOARD_SIZE = 50

RECENT_HOURS = 24
# The messages of an offer: its offer and, when someone else won, "taken", by SMS or Telegram
# and by e-mail.
OFFER_EVENTS = ("waitlist.offer", "waitlist.taken")
OFFER_MESSAGE_CHANNELS = ("sms", "messenger", "email")


def offer_message_key(event: str, offer: WaitlistOffer, channel: str) -> str:
    """The idempotency key of an offer's message on `channel`: one message per offer, event
    and channel, however often the step runs; the staff page finds the messages by it."""
    return f"{event}:{offer.public_id}:{channel}"


@dataclass(frozen=True)
class Score:
    total: int
    # (what, points) for each part that counted: the "why" staff see.
    parts: tuple[tuple[str, int], ...]


def waitlist_score(
    *,
    urgent: bool,
    boost: int,
    current_start: datetime.datetime | None,
    joined_at: datetime.datetime,
    now: datetime.datetime,
) -> Score:
    """Seed 003's priority: urgent +30; the staff boost (0–40); the patient's current visit of
    the service 180+ days away +20, 90–179 +10, 30–89 +5, sooner (or none) 0; +1 per full 30
    days on the list, at most 10."""
    parts: list[tuple[str, int]] = []
    if urgent:
        parts.append((str(_("urgent")), URGENT_POINTS))
    if boost:
        parts.append((str(_("staff boost")), boost))
    if current_start is not None:
        days = (current_start - now).days
        for at_least, points in WAIT_POINTS:
            if days >= at_least:
                parts.append((str(_("current visit in %(days)d days")) % {"days": days}, points))
                break
    waited = max((now - joined_at).days, 0)
    seniority = min(waited // SENIORITY_DAYS, MAX_SENIORITY_POINTS)
    if seniority:
        parts.append((str(_("on the list %(days)d days")) % {"days": waited}, seniority))
    return Score(total=sum(points for _what, points in parts), parts=tuple(parts))


@dataclass(frozen=True)
class Candidate:
    entry: WaitlistEntry
    score: Score
    current_start: datetime.datetime | None
    sort_key: tuple[Any, ...] = field(compare=False)
    # False for a patient no offer can reach (`patients_out_of_reach`): staff see them marked.
    reachable: bool = True


def _refused(purpose: str) -> Q:
    consents = Consent.objects.filter(patient=OuterRef("patient_id"), purpose=purpose)
    return Q(Exists(consents.filter(withdrawn_at__isnull=False))) & ~Q(
        Exists(consents.filter(withdrawn_at__isnull=True))
    )


def _with_current_visit(entries: QuerySet[WaitlistEntry], *, now: datetime.datetime) -> Any:
    """`entries` annotated with the start of the patient's next visit of the entry's service
    (for an entry of a specialty, of any service of it)."""
    visits = (
        Appointment.objects.filter(
            Q(service=OuterRef("service_id")) | Q(service__specialty=OuterRef("specialty_id")),
            patient=OuterRef("patient_id"),
            status__in=UPCOMING_STATUSES,
            starts_at__gt=now,
        )
        .values("patient")
        .annotate(first=Min("starts_at"))
        .values("first")
    )
    return entries.annotate(current_start=Subquery(visits[:1]))


def _ranked(entries: Any, *, now: datetime.datetime) -> list[Candidate]:
    """Best first, one per patient (their best entry); ties by earlier join."""
    candidates = []
    for entry in entries:
        score = waitlist_score(
            urgent=entry.urgent,
            boost=entry.boost,
            current_start=entry.current_start,
            joined_at=entry.created_at,
            now=now,
        )
        candidates.append(
            Candidate(
                entry=entry,
                score=score,
                current_start=entry.current_start,
                sort_key=(-score.total, entry.created_at, entry.pk),
            )
        )
    candidates.sort(key=lambda c: c.sort_key)
    seen: set[int] = set()
    best = []
    for candidate in candidates:
        if candidate.entry.patient_id not in seen:
            seen.add(candidate.entry.patient_id)
            best.append(candidate)
    return best


def _marked(candidates: list[Candidate]) -> list[Candidate]:
    """`candidates` with those no offer can reach marked unreachable."""
    out = patients_out_of_reach([c.entry.patient for c in candidates])
    return [replace(c, reachable=False) if c.entry.patient_id in out else c for c in candidates]


def _entries_fitting(slot: FreedSlot) -> QuerySet[WaitlistEntry]:
    """Active entries of patients still on file that the slot fits: its service (or its
    service's specialty), the doctor where the entry names one, its clinic or its clinic's city
    where the entry names one, its local day in the entry's dates; never the patient who
    freed it (a time a schedule change opened has none)."""
    day = slot.starts_at.astimezone(slot.clinic.tz).date()
    entries = (
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.ACTIVE,
            date_from__lte=day,
            date_to__gte=day,
            patient__anonymised_at__isnull=True,
        )
        .filter(Q(service_id=slot.service_id) | Q(specialty_id=slot.service.specialty_id))
        .filter(Q(doctor__isnull=True) | Q(doctor_id=slot.doctor_id))
        .filter(_where_fits(slot.clinic))
    )
    source = slot.source
    if source is not None:
        entries = entries.exclude(patient_id=source.patient_id)
    return entries


def _where_fits(clinic: Clinic) -> Q:
    """Entries whose place the clinic is: itself, any clinic of its city, or anywhere."""
    return Q(clinic=clinic) | Q(clinic__isnull=True, city__in=["", clinic.city])


def slot_candidates(*, slot: FreedSlot, now: datetime.datetime) -> list[Candidate]:
    """Active entries that fit `slot` and have not been offered it, best first: the service;
    the doctor and the clinic where the entry names them; the slot's local day in the entry's
    dates; not the patient who freed it, nor one with a live offer of another slot (a YES
    must be unambiguous), nor one who refused notifications, nor one no message can reach
    (no address of their own or their guardian's on a channel that takes visit messages):
    their offer would only use up a batch's minutes. A slot not saved yet (a time a schedule
    change opened, before it is offered) has been offered to nobody."""
    entries = _entries_fitting(slot)
    if slot.pk is not None:
        entries = entries.exclude(offers__slot=slot)
    entries = entries.exclude(
        patient__in=WaitlistOffer.objects.filter(
            status=WaitlistOfferStatus.OFFERED, expires_at__gt=now
        ).values("patient")
    ).select_related("patient")
    for purpose in STOPPING_CONSENTS:
        entries = entries.exclude(_refused(purpose))
    ranked = _marked(_ranked(_with_current_visit(entries, now=now), now=now))
    return [candidate for candidate in ranked if candidate.reachable]


# --- The staff page ---------------------------------------------------------------------------


def waitlist_clinics(user: Any) -> QuerySet[Clinic]:
    return permissions.clinics_with(user, STAFF_CAPABILITY).order_by("name")


def pick_waitlist_clinic(user: Any, public_id: str | None) -> tuple[Clinic | None, list[Clinic]]:
    """The clinic asked for (404 unless the user runs its waitlist), else the only one."""
    clinics = list(waitlist_clinics(user))
    if public_id:
        chosen = next((c for c in clinics if str(c.public_id) == public_id), None)
        if chosen is None:
            get_by_public_id(Clinic.objects.none(), public_id)  # 404, for any id
        return chosen, clinics
    return (clinics[0] if len(clinics) == 1 else None), clinics


def _services_of(clinics: list[Clinic]) -> QuerySet[Service]:
    """The active services an active doctor of `clinics` does."""
    return Service.objects.filter(
        is_active=True, doctors__is_active=True, doctors__clinics__in=clinics
    ).distinct()


def clinic_entries(clinic: Clinic) -> QuerySet[WaitlistEntry]:
    """Active entries the clinic's staff see: for this clinic, any clinic of its city, or any
    clinic; of a service (or a specialty) the clinic's doctors do, and of no doctor or one who
    works there. A network-wide entry for what the clinic does not do is not theirs."""
    offered = _services_of([clinic])
    return (
        WaitlistEntry.objects.filter(status=WaitlistStatus.ACTIVE)
        .filter(_where_fits(clinic))
        .filter(Q(service__in=offered) | Q(specialty__in=offered.values("specialty_id")))
        .filter(Q(doctor__isnull=True) | Q(doctor__in=clinic.doctors.all()))
    )


def joinable_services(clinics: list[Clinic]) -> QuerySet[Service]:
    """The services a registrar may put a patient on the waiting list for: those done in the
    clinics whose waitlist they run."""
    return _services_of(clinics).order_by("name")


def joinable_specialties(clinics: list[Clinic]) -> QuerySet[Specialty]:
    """The specialties a patient may wait for any service of, in `clinics`."""
    return Specialty.objects.filter(services__in=_services_of(clinics)).distinct().order_by("name")


def joinable_doctors(clinics: list[Clinic]) -> QuerySet[Doctor]:
    """The active doctors of `clinics`, to wait for one of them."""
    return (
        Doctor.objects.filter(is_active=True, clinics__in=clinics)
        .distinct()
        .prefetch_related("clinics")
        .order_by("last_name", "first_name")
    )


def get_entry_for_staff(user: Any, *, clinic: Clinic, public_id: Any) -> WaitlistEntry:
    """An active entry the clinic's staff see; 404 otherwise (the caller checked the user
    runs the clinic's waitlist)."""
    permissions.require_capability(user, STAFF_CAPABILITY, clinic)
    return get_by_public_id(clinic_entries(clinic).select_related("patient"), public_id)


def get_slot_for_staff(user: Any, public_id: Any) -> FreedSlot:
    """A freed slot of a clinic whose waitlist `user` runs; 404 otherwise."""
    ids = permissions.clinic_ids_with(user, STAFF_CAPABILITY)
    slots = FreedSlot.objects.select_related("clinic", "doctor", "service", "source")
    if ids is not None:
        slots = slots.filter(clinic_id__in=ids)
    return get_by_public_id(slots, public_id)


def leaderboard(*, clinic: Clinic, now: datetime.datetime) -> list[Candidate]:
    """The clinic's waiting patients by score (their current visit counted from now), those
    no offer can reach marked."""
    entries = clinic_entries(clinic).select_related(
        "patient", "service", "specialty", "doctor", "clinic"
    )
    ranked = _ranked(_with_current_visit(entries, now=now), now=now)[:LEADERBOARD_SIZE]
    return _marked(ranked)


@dataclass(frozen=True)
class LiveSlot:
    slot: FreedSlot
    offers: list[WaitlistOffer]
    seconds_left: int | None
    candidates: list[Candidate]
    # Each offer's messages (offer, taken) with their status, by offer id.
    messages: dict[int, list[OutboxMessage]] = field(default_factory=dict)

    @property
    def rows(self) -> list[tuple[WaitlistOffer, list[OutboxMessage]]]:
        return [(offer, self.messages.get(offer.pk, [])) for offer in self.offers]

    @property
    def countdown(self) -> str:
        """The seconds left as m:ss."""
        seconds = self.seconds_left or 0
        return f"{seconds // 60}:{seconds % 60:02d}"


def live_slots(*, clinic: Clinic, now: datetime.datetime) -> list[LiveSlot]:
    """The clinic's slots freed in the last day and still ahead: their offers (the current
    batch first) with seconds left, and who could be assigned each open one."""
    slots = (
        FreedSlot.objects.filter(
            clinic=clinic,
            freed_at__gte=now - datetime.timedelta(hours=RECENT_HOURS),
            starts_at__gt=now,
        )
        .select_related("clinic", "doctor", "service", "source", "filled_by__patient")
        .prefetch_related("offers__patient")
        .order_by("starts_at")
    )
    result = []
    freed = list(slots)
    messages = _offer_messages([offer for slot in freed for offer in slot.offers.all()])
    for slot in freed:
        offers = sorted(slot.offers.all(), key=lambda o: (-o.batch, -o.score))
        open_ = slot.status in (FreedSlotStatus.OFFERING, FreedSlotStatus.UNFILLED)
        seconds = None
        if slot.status == FreedSlotStatus.OFFERING and slot.next_step_at is not None:
            seconds = max(int((slot.next_step_at - now).total_seconds()), 0)
        result.append(
            LiveSlot(
                slot=slot,
                offers=offers,
                seconds_left=seconds,
                candidates=_assignable(slot, now=now) if open_ else [],
                messages={o.pk: messages[o.pk] for o in offers if o.pk in messages},
            )
        )
    return result


def _offer_messages(offers: list[WaitlistOffer]) -> dict[int, list[OutboxMessage]]:
    """The outbox messages of `offers` in one query, oldest first, by offer id."""
    keys = {
        offer_message_key(event, offer, channel): offer.pk
        for offer in offers
        for event in OFFER_EVENTS
        for channel in OFFER_MESSAGE_CHANNELS
    }
    found: dict[int, list[OutboxMessage]] = {}
    if not keys:
        return found
    rows = (
        OutboxMessage.objects.filter(idempotency_key__in=list(keys))
        .only(
            "idempotency_key",
            "event",
            "channel",
            "status",
            "delivery_status",
            "attempts",
            "last_error",
            "sent_at",
        )
        .order_by("created_at", "pk")
    )
    for message in rows:
        found.setdefault(keys[message.idempotency_key or ""], []).append(message)
    return found


def _assignable(slot: FreedSlot, *, now: datetime.datetime) -> list[Candidate]:
    """Waiting patients staff may give the slot to: those who fit it, offered or not, and
    those no offer can reach (marked; staff may call them or tell them at the desk)."""
    entries = _entries_fitting(slot).select_related("patient")
    return _marked(_ranked(_with_current_visit(entries, now=now), now=now))


def get_offer_by_token(token: str) -> WaitlistOffer:
    """The offer its link names; 404 for an unknown token."""
    offer = (
        WaitlistOffer.objects.select_related(
            "patient", "slot__clinic", "slot__doctor", "slot__service"
        )
        .filter(token=token)
        .first()
    )
    if offer is None or not token:
        raise Http404
    return offer


def offer_for_visitor(user: Any, token: str) -> WaitlistOffer:
    """The offer of the link for whoever holds it; a signed-in user who may not act for its
    patient gets 404 (the link was someone else's)."""
    offer = get_offer_by_token(token)
    if getattr(user, "is_authenticated", False) and not (
        permissions.is_patient(user) and permissions.can_act_for_patient(user, offer.patient)
    ):
        raise Http404
    return offer


def slot_stats(*, clinic: Clinic, now: datetime.datetime) -> dict[str, Any]:
    """Last 30 days of the clinic's slots freed by cancellations: how many, filled within two
    hours, the median time to fill in minutes, and how many staff assigned; beside them, the
    times schedule changes opened and how many of those were filled (kept apart: they are no
    cancellations)."""
    settled = list(
        FreedSlot.objects.filter(
            clinic=clinic, freed_at__gte=now - datetime.timedelta(days=30)
        ).exclude(status=FreedSlotStatus.OFFERING)
    )
    slots = [s for s in settled if s.origin == FreedSlotOrigin.CANCELLATION]
    opened = [s for s in settled if s.origin == FreedSlotOrigin.SCHEDULE]
    filled = [s for s in slots if s.time_to_fill is not None]
    minutes = sorted(int(s.time_to_fill.total_seconds() // 60) for s in filled)
    fast = [s for s in filled if s.time_to_fill <= datetime.timedelta(hours=2)]
    return {
        "freed": len(slots),
        "filled": len(filled),
        "within_two_hours": len(fast),
        "median_minutes": minutes[len(minutes) // 2] if minutes else None,
        "manual": sum(1 for s in filled if s.manual),
        "opened": len(opened),
        "opened_filled": sum(1 for s in opened if s.status == FreedSlotStatus.FILLED),
    }
