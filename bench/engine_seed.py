"""The booking engine's bench network: seeded in two sizes through the API, as patients
would book, with the queries of the measured requests counted at each size."""

from __future__ import annotations

import datetime
import itertools
import random
import time
from dataclasses import dataclass

from bench.console import log
from bench.scenario import (
    BOOKING_CLIENTS,
    PATIENTS_PER_BOOKING_CLIENT,
    RACE_CLIENTS,
    SLOT_DAYS,
    api_client,
    booking_body,
    earliest_path,
    measured_slots_path,
    picker_path,
    slots_path,
)

# Share of each new clinic's next 30 days booked before anything is measured.
EXISTING_BOOKED_SHARE = 0.12


def _book_existing(network, clinics, *, today, rng: random.Random) -> int:
    """Book a share of the given clinics' next 30 days through the API, as patients would."""
    clinic_ids = {str(clinic.public_id) for clinic in clinics}
    anonymous = api_client()
    patients = itertools.cycle(network.patients[-40:])
    clients = {}
    booked = 0
    for slug, specialty in network.specialties.items():
        path = slots_path(
            service=network.services[slug], specialty=specialty, start=today, days=SLOT_DAYS
        )
        response = anonymous.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"seeding: free slots answered {response.status_code}")
        slots = [slot for slot in response.json() if slot["clinic"] in clinic_ids]
        for slot in rng.sample(slots, int(len(slots) * EXISTING_BOOKED_SHARE)):
            patient = next(patients)
            client = clients.setdefault(patient.token, api_client(patient.token))
            response = client.post(
                "/api/v1/appointments/", data=booking_body(slot), content_type="application/json"
            )
            if response.status_code != 201:
                raise RuntimeError(
                    f"seeding: booking answered {response.status_code}: {response.content[:300]}"
                )
            booked += 1
    return booked


def _count_queries(network, *, today) -> dict:
    """Queries of the measured free-slot request and of one booking, through the full API."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    anonymous = api_client()
    patient = network.patients[0]
    client = api_client(patient.token)
    path = measured_slots_path(network, today)
    counts: dict[str, list[int]] = {
        "free_slots": [],
        "booking": [],
        "slot_picker": [],
        "earliest_slots": [],
    }
    pages = {
        "slot_picker": (picker_path(network), {"HTTP_HX_REQUEST": "true"}),
        "earliest_slots": (earliest_path(network), {}),
    }
    # The first round fills per-process caches (content types, translations): not counted.
    for attempt in range(3):
        with CaptureQueriesContext(connection) as ctx:
            response = anonymous.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"free slots answered {response.status_code}")
        if attempt:
            counts["free_slots"].append(len(ctx.captured_queries))
        slots = response.json()
        slot = slots[len(slots) // 2]
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                "/api/v1/appointments/", data=booking_body(slot), content_type="application/json"
            )
        if response.status_code != 201:
            raise RuntimeError(f"booking answered {response.status_code}: {response.content[:300]}")
        if attempt:
            counts["booking"].append(len(ctx.captured_queries))
        for name, (page_path, headers) in pages.items():
            with CaptureQueriesContext(connection) as ctx:
                response = anonymous.get(page_path, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"{name} answered {response.status_code}")
            if attempt:
                counts[name].append(len(ctx.captured_queries))
    return {**counts, "slots_in_answer": len(slots)}


@dataclass
class State:
    network: object
    today: datetime.date


def seed_and_count(cfg, results: dict) -> State:
    """Seed the network in two sizes, counting queries at each, into `results`."""
    from django.utils import timezone

    from bench import seed
    from scheduling.models import Appointment, Doctor, ScheduleRule

    rng = random.Random(2026)
    today = timezone.localdate()
    network = seed.Network()
    started = time.perf_counter()
    patients = BOOKING_CLIENTS * PATIENTS_PER_BOOKING_CLIENT + RACE_CLIENTS + 72
    sizes = {}
    seed.seed_catalogue(network)
    seed.seed_patients(network, count=patients, prefix="bench-patient-", rng=rng)
    for label, first, count in (("small", 0, 2), ("large", 2, 2)):
        seed.seed_clinics(network, first=first, count=count, today=today)
        booked = _book_existing(network, network.clinics[first:], today=today, rng=rng)
        counted = _count_queries(network, today=today)
        sizes[label] = {
            "clinics": len(network.clinics),
            "doctors": Doctor.objects.count(),
            "schedule_rules": ScheduleRule.objects.count(),
            "appointments": Appointment.objects.count(),
            "existing_bookings_added": booked,
            "queries_free_slots": counted["free_slots"],
            "queries_booking": counted["booking"],
            "queries_slot_picker": counted["slot_picker"],
            "queries_earliest_slots": counted["earliest_slots"],
            "slots_in_answer": counted["slots_in_answer"],
        }
        log(f"seeded {label} network: {sizes[label]}")
    seconds = round(time.perf_counter() - started, 1)

    def both(key: str) -> list[int]:
        return sizes["small"][key] + sizes["large"][key]

    free_counts, booking_counts = both("queries_free_slots"), both("queries_booking")
    picker_counts, earliest_counts = both("queries_slot_picker"), both("queries_earliest_slots")
    results.update(
        {
            "seed_seconds": seconds,
            "network": {
                "zones": list(seed.ZONES),
                "clinics": len(network.clinics),
                "specialties": len(network.specialties),
                "doctors": len(network.doctors),
                "patients": len(network.patients),
                "sizes": sizes,
            },
            "queries_per_free_slots": max(free_counts),
            "queries_per_free_slots_fixed": len(set(free_counts)) == 1,
            "queries_per_booking": max(booking_counts),
            "queries_per_booking_fixed": len(set(booking_counts)) == 1,
            "queries_per_slot_picker": max(picker_counts),
            "queries_per_slot_picker_fixed": len(set(picker_counts)) == 1,
            "queries_per_earliest_slots": max(earliest_counts),
            "queries_per_earliest_slots_fixed": len(set(earliest_counts)) == 1,
        }
    )
    return State(network=network, today=today)
