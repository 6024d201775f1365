"""Find care: specialties and doctors, each doctor's week of free times, and the network's
earliest free times. Public: anonymous visitors browse and pick a time before signing in."""

from __future__ import annotations

import datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.types import HtmxRequest
from scheduling.models import Doctor, Service, Specialty
from scheduling.selectors import booking_pages as pages
from scheduling.selectors.booking_requests import request_mode_clinic_ids
from scheduling.selectors.catalogue import get_by_public_id, public_clinics, public_specialties
from scheduling.selectors.connector_slots import connector_clinic_ids, connector_week
from scheduling.views.book_external import external_slot_url
from scheduling.views.dates import asked_day


def _today() -> datetime.date:
    return timezone.localdate()


def _date_param(request: HttpRequest, name: str) -> datetime.date:
    """A YYYY-MM-DD query parameter; today when absent, not a date or beyond the calendar."""
    return asked_day(request, request.GET.get(name), today=_today())


def _with_request_clinics(cards: list[pages.DoctorCard]) -> list[pages.DoctorCard]:
    """Mark on each card the doctor's clinics that take booking requests instead of slots."""
    ids = request_mode_clinic_ids()
    for card in cards:
        card.request_clinics = [c for c in card.clinics if c.pk in ids]
    return cards


def find_care(request: HttpRequest) -> HttpResponse:
    """Specialties to pick from, and doctors found by name."""
    query = request.GET.get("q", "").strip()[:100]
    specialties = list(public_specialties())
    doctors = pages.doctors_named(query) if query else []
    return render(
        request,
        "scheduling/find_care.html",
        {
            "specialties": specialties,
            "query": query,
            "cards": _with_request_clinics(
                pages.doctor_cards(doctors, service=None, today=_today())
            ),
        },
    )


def specialty(request: HttpRequest, slug: str) -> HttpResponse:
    """The doctors of one specialty, each with the next free times of its first service."""
    chosen = Specialty.objects.filter(slug=slug).first()
    if chosen is None:
        raise Http404
    clinics = list(public_clinics())
    clinic = next((c for c in clinics if str(c.public_id) == request.GET.get("clinic")), None)
    service = pages.default_service(chosen)
    doctors = pages.doctors_shown(specialty=chosen, clinic=clinic)
    cards = _with_request_clinics(
        pages.doctor_cards(
            doctors, service=service, specialty=chosen, clinic=clinic, today=_today()
        )
    )
    ids = request_mode_clinic_ids()
    return render(
        request,
        "scheduling/specialty.html",
        {
            "specialty": chosen,
            "service": service,
            "cards": cards,
            "clinics": clinics,
            "clinic": clinic,
            # Clinics where this specialty is booked by request, with a form instead of slots.
            "request_clinics": [
                c
                for c in clinics
                if c.pk in ids
                and (clinic is None or c.pk == clinic.pk)
                and any(c in card.request_clinics for card in cards)
            ],
        },
    )


def _doctor_and_service(request: HtmxRequest, public_id: object) -> tuple[Doctor, Service | None]:
    # The week picker's partial shows no specialties.
    doctor = get_by_public_id(pages.doctors_shown(specialties=not request.htmx), public_id)
    services = list(doctor.services.all())
    services.sort(key=lambda s: (s.sort_order, s.name, s.pk))
    wanted = request.GET.get("service")
    service = next((s for s in services if str(s.public_id) == wanted), None)
    return doctor, service or (services[0] if services else None)


def doctor(request: HtmxRequest, public_id: object) -> HttpResponse:
    """A doctor's card and a week of free times for one of their services."""
    found, service = _doctor_and_service(request, public_id)
    context: dict[str, object] = {
        "doctor": found,
        "service": service,
        "services": found.services.all(),
    }
    connector_ids = connector_clinic_ids()
    clinics = list(found.clinics.all())
    # `takes_requests`: annotated by `doctors_shown`.
    by_request = [c for c in clinics if c.takes_requests]  # type: ignore[attr-defined]
    context["request_clinics"] = by_request
    # Only request-mode or connector clinics: no free times of this engine to show.
    context["request_only"] = bool(clinics) and all(
        c.takes_requests or c.pk in connector_ids  # type: ignore[attr-defined]
        for c in clinics
    )
    if service is not None:
        context["connector_weeks"] = [
            _connector_week(c, found, service, _date_param(request, "from"))
            for c in clinics
            if c.pk in connector_ids
        ]
    if service is not None and not context["request_only"]:
        context["picker"] = pages.week_picker(
            service=service,
            doctor=found,
            first=_date_param(request, "from"),
            today=_today(),
        )
    template = "scheduling/htmx/week_picker.html" if request.htmx else "scheduling/doctor.html"
    return render(request, template, context)


def _connector_week(clinic, doctor: Doctor, service: Service, first: datetime.date) -> dict:
    """A connector clinic's week of free times, each with its confirmation link."""
    week = connector_week(clinic=clinic, service=service, doctor=doctor, first=first)
    tz = clinic.tz
    return {
        "clinic": clinic,
        "unavailable": week.unavailable,
        "days": [
            {
                "day": item.day,
                "slots": [
                    (
                        slot.start.astimezone(tz).strftime("%H:%M"),
                        external_slot_url(clinic=clinic, doctor=doctor, service=service, slot=slot),
                    )
                    for slot in item.slots
                ],
            }
            for item in week.days
        ],
    }


def earliest(request: HttpRequest) -> HttpResponse:
    """The first free times of a service across every clinic of the network."""
    services = list(pages.active_services())
    service = pages.service_by_public_id(request.GET.get("service"))
    rows = pages.earliest_slots(service=service, today=_today()) if service else []
    return render(
        request,
        "scheduling/earliest.html",
        {"services": services, "service": service, "rows": rows},
    )
