"""What the patient's booking pages show: doctor cards with their next free times, the week
picker, the network's earliest free slots. Every free time comes from `free_slots`; one engine
call per page (a fixed handful of queries), whatever the number of doctors shown."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from portal.formatting import day_label, is_readers_zone, time_label, utc_offset_label
from portal.models import Clinic
from scheduling.choices import BookingMode
from scheduling.models import BookingPolicy, Doctor, Service, Specialty
from scheduling.selectors.availability import Slot, free_slots
from scheduling.selectors.pricing import prices_in_force

CARD_WINDOW_DAYS = 14  # how far doctor cards look for the next free time
CARD_SLOTS = 4  # free times shown on a card, all on its first free day
PICKER_DAYS = 7
EARLIEST_WINDOW_DAYS = 30
EARLIEST_LIMIT = 12  # doctor-and-clinic rows
PICKER_HORIZON_DAYS = 120  # the week picker pages no further than this


@dataclass(frozen=True)
class SlotChoice:
    """A free time as a page offers it: the engine's slot and its labels."""

    slot: Slot
    time: str  # "09:30", the clinic's wall clock

    @property
    def slot_id(self) -> str:
        return self.slot.slot_id


@dataclass
class DoctorCard:
    doctor: Doctor
    specialties: list[str]
    clinics: list[Clinic]
    price_from: Decimal | None
    service: Service | None  # what the next free times are for
    next_day: str = ""  # label of the first day with free times
    next_slots: list[SlotChoice] = field(default_factory=list)
    next_clinic: Clinic | None = None  # where those times are
    next_zone: str = ""  # "UTC+8" when the clinic's zone is not the reader's
    # Clinics of the doctor that book on request: the card offers a request form there.
    request_clinics: list[Clinic] = field(default_factory=list)

    @property
    def initials(self) -> str:
        return "".join(part[:1] for part in (self.doctor.last_name, self.doctor.first_name))


@dataclass
class PickerDay:
    date: datetime.date
    label: str
    slots: list[SlotChoice]


@dataclass
class WeekPicker:
    service: Service
    first: datetime.date
    days: list[PickerDay]
    previous: datetime.date | None  # None: the week shown starts today
    next: datetime.date | None  # None: beyond the booking horizon the engine reads
    zone: str = ""  # "UTC+8" when all the week's slots are in one zone

    @property
    def empty(self) -> bool:
        return not any(day.slots for day in self.days)


def _choice(slot: Slot) -> SlotChoice:
    return SlotChoice(slot=slot, time=time_label(slot.start))


# --- Catalogue -------------------------------------------------------------------------------


def default_service(specialty: Specialty) -> Service | None:
    """The service booked when a patient picks the specialty: its first in catalogue order."""
    return (
        Service.objects.filter(specialty=specialty, is_active=True)
        .order_by("sort_order", "name", "id")
        .first()
    )


def doctor_default_service(doctor: Doctor) -> Service | None:
    return doctor.services.filter(is_active=True).order_by("sort_order", "name", "id").first()


def doctors_shown(
    *,
    specialty: Specialty | None = None,
    clinic: Clinic | None = None,
    specialties: bool = True,
) -> QuerySet[Doctor]:
    """Active doctors with what their cards show (three queries for any number; two without
    the `specialties`, which the week picker does not show). Each clinic carries
    `takes_requests`: its booking policy is request mode."""
    qs = Doctor.objects.filter(is_active=True)
    if specialty is not None:
        qs = qs.filter(specialties=specialty)
    if clinic is not None:
        qs = qs.filter(clinics=clinic)
    request_mode = BookingPolicy.objects.filter(clinic=OuterRef("pk"), mode=BookingMode.REQUEST)
    clinics = (
        Clinic.objects.filter(is_active=True)
        .annotate(takes_requests=Exists(request_mode))
        .order_by("name")
    )
    return (
        qs.distinct()
        .order_by("last_name", "first_name", "id")
        .prefetch_related(
            *(["specialties"] if specialties else []),
            Prefetch("clinics", queryset=clinics),
            Prefetch("services", queryset=Service.objects.filter(is_active=True)),
        )
    )


def doctors_named(query: str) -> list[Doctor]:
    """Active doctors whose name contains every word of `query`, in any case (Cyrillic too,
    which SQLite's LIKE does not fold)."""
    words = [word.casefold() for word in query.split() if word]
    if not words:
        return []
    found = []
    for doctor in doctors_shown():
        name = doctor.full_name.casefold()
        if all(word in name for word in words):
            found.append(doctor)
    return found


def doctor_cards(
    doctors: Iterable[Doctor],
    *,
    service: Service | None,
    specialty: Specialty | None = None,
    clinic: Clinic | None = None,
    today: datetime.date,
) -> list[DoctorCard]:
    """Cards for `doctors`; with `service`, each shows its first free day's first times (one
    engine call for all of them)."""
    doctors = list(doctors)
    by_doctor: dict[int, list[Slot]] = defaultdict(list)
    if service is not None and doctors:
        slots = free_slots(
            service=service,
            specialty=specialty,
            clinic=clinic,
            start_date=today,
            end_date=today + datetime.timedelta(days=CARD_WINDOW_DAYS - 1),
        )
        for slot in slots:
            by_doctor[slot.doctor_id].append(slot)
    offered = {
        doctor.pk: [
            s for s in doctor.services.all() if specialty is None or s.specialty_id == specialty.pk
        ]
        for doctor in doctors
    }
    # "From" is the lowest price in force where the doctor works: the clinic's own price on
    # its today (what the confirm page asks before any promotion), else the network price.
    prices = prices_in_force(
        clinics={c.pk: c for d in doctors for c in d.clinics.all()}.values(),
        services={s.pk: s for own in offered.values() for s in own}.values(),
    )
    cards = []
    for doctor in doctors:
        services = offered[doctor.pk]
        shown = (
            service if service is not None and any(s.pk == service.pk for s in services) else None
        )
        # The times on the card book `shown`: its price is the one the confirm page asks.
        priced = [shown] if shown is not None else services
        card = DoctorCard(
            doctor=doctor,
            specialties=[s.name for s in doctor.specialties.all()],
            clinics=list(doctor.clinics.all()),
            price_from=min(
                (
                    prices[(c.pk, s.pk)]
                    for c in doctor.clinics.all()
                    if clinic is None or c.pk == clinic.pk
                    for s in priced
                ),
                default=min((s.price for s in priced), default=None),
            ),
            service=shown,
        )
        own = by_doctor.get(doctor.pk, [])
        if own and card.service is not None:
            first = own[0]
            card.next_day = day_label(first.start.date(), with_year=False)
            card.next_slots = [
                _choice(s)
                for s in own
                if s.start.date() == first.start.date() and s.clinic_id == first.clinic_id
            ][:CARD_SLOTS]
            card.next_clinic = next((c for c in card.clinics if c.pk == first.clinic_id), None)
            if card.next_clinic is not None and not is_readers_zone(
                card.next_clinic.tz, first.start
            ):
                card.next_zone = utc_offset_label(first.start)
        cards.append(card)
    return cards


# --- The week picker ---------------------------------------------------------------------


def week_picker(
    *,
    service: Service,
    doctor: Doctor,
    first: datetime.date,
    today: datetime.date,
    clinic: Clinic | None = None,
) -> WeekPicker:
    """Seven days of one doctor's free times for `service`, from `first` (never before today)."""
    first = max(first, today)
    last = first + datetime.timedelta(days=PICKER_DAYS - 1)
    slots = free_slots(
        service=service, doctor=doctor, clinic=clinic, start_date=first, end_date=last
    )
    by_day: dict[datetime.date, list[SlotChoice]] = defaultdict(list)
    zones = set()
    for slot in slots:
        by_day[slot.start.date()].append(_choice(slot))
        zones.add(utc_offset_label(slot.start))
    days = [
        PickerDay(date=day, label=day_label(day, with_year=False), slots=by_day.get(day, []))
        for day in (first + datetime.timedelta(days=n) for n in range(PICKER_DAYS))
    ]
    horizon = today + datetime.timedelta(days=PICKER_HORIZON_DAYS)
    following = first + datetime.timedelta(days=PICKER_DAYS)
    return WeekPicker(
        service=service,
        first=first,
        days=days,
        previous=None
        if first <= today
        else max(today, first - datetime.timedelta(days=PICKER_DAYS)),
        next=following if following <= horizon else None,
        zone=zones.pop() if len(zones) == 1 else "",
    )


# --- The network's earliest free times ------------------------------------------------------


@dataclass(frozen=True)
class EarliestRow:
    """A doctor's first free day in one clinic: its first few times, in the clinic's zone."""

    doctor: Doctor
    clinic: Clinic
    day: str
    zone: str
    choices: list[SlotChoice]


def earliest_slots(*, service: Service, today: datetime.date) -> list[EarliestRow]:
    """For each clinic and doctor of `service`, the first free day's first times, earliest
    first: where and with whom a patient can be seen soonest, each clinic's date, time and
    offset written out."""
    slots = free_slots(
        service=service,
        start_date=today,
        end_date=today + datetime.timedelta(days=EARLIEST_WINDOW_DAYS - 1),
    )
    firsts: dict[tuple[int, int], list[Slot]] = {}
    for slot in slots:  # in order of time
        same = firsts.setdefault((slot.clinic_id, slot.doctor_id), [])
        if not same or (same[0].start.date() == slot.start.date() and len(same) < CARD_SLOTS):
            same.append(slot)
    groups = list(firsts.values())[:EARLIEST_LIMIT]
    doctors = Doctor.objects.in_bulk({group[0].doctor_id for group in groups})
    clinics = Clinic.objects.in_bulk({group[0].clinic_id for group in groups})
    return [
        EarliestRow(
            doctor=doctors[group[0].doctor_id],
            clinic=clinics[group[0].clinic_id],
            day=day_label(group[0].start.date(), with_year=False),
            zone=utc_offset_label(group[0].start),
            choices=[_choice(slot) for slot in group],
        )
        for group in groups
    ]


def active_services() -> QuerySet[Service]:
    """Every bookable service, grouped by specialty in catalogue order."""
    return (
        Service.objects.filter(is_active=True)
        .select_related("specialty")
        .order_by("specialty__name", "sort_order", "name")
    )


def service_by_public_id(public_id: uuid.UUID | str | None) -> Service | None:
    """An active service by public id; None for a missing or malformed id."""
    try:
        return Service.objects.select_related("specialty").get(
            public_id=uuid.UUID(str(public_id)), is_active=True
        )
    except (Service.DoesNotExist, ValueError, TypeError):
        return None


def network_cities() -> list[str]:
    """The cities the network's clinics are in, to wait for a time anywhere in one."""
    clinics = Clinic.objects.filter(is_active=True).order_by("city")
    return list(clinics.values_list("city", flat=True).distinct())
