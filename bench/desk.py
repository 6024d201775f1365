"""The registrar desk's phase of `make bench`: the day board of one clinic with 40 doctors and a
full day booked, against the trivial view in the same run (`day_board_p95_ratio`), and the
board's query count at 20 and at 40 doctors (`queries_per_day_board`, which must not grow).

The clinic is seeded apart from the engine's network (its own clinic, specialty and service),
so the other phases measure what they always measured. Every visit is booked through the
engine's own booking service, so occupancy rows are what production writes. The registrar
signs in once in-process; the load generator sends that session's cookie.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from bench import loadgen, report
from bench.console import log

DESK_DOCTORS = 40
# Query counts are compared at these sizes (the second one is the measured board).
DESK_SIZES = (20, 40)
SHIFT = (datetime.time(8, 0), datetime.time(20, 0))
STEP_MINUTES = 30


@dataclass
class Desk:
    clinic: object
    service: object
    registrar: object
    day: datetime.date
    doctors: int = 0
    booked: int = 0
    cookie: str = ""

    def board_path(self) -> str:
        query = {"clinic": str(self.clinic.public_id), "date": self.day.isoformat()}
        return f"/desk/?{urlencode(query)}"


def seed_desk_clinic(*, day: datetime.date, zone: str = "Europe/Moscow") -> Desk:
    """The desk's clinic with its registrar (no doctors yet)."""
    from portal.choices import Role
    from portal.models import Clinic, LegalEntity, StaffMembership, User
    from scheduling.models import BookingPolicy, Service, Specialty

    entity = LegalEntity.objects.get_or_create(
        inn="3800000002",
        defaults={
            "name": 'ООО "Медфронт Регистратура"',
            "short_name": "Медфронт Регистратура",
            "legal_address": "г. Москва, ул. Тверская, 1",
        },
    )[0]
    clinic = Clinic.objects.create(
        slug="bench-desk",
        name="Бенч-регистратура",
        legal_entity=entity,
        city="Москва",
        address="ул. Тверская, 1",
        timezone=zone,
    )
    BookingPolicy.objects.create(clinic=clinic, max_active_per_patient=10_000)
    specialty = Specialty.objects.create(
        slug="bench-desk-therapist", name="Терапевт (регистратура)"
    )
    service = Service.objects.create(
        code="bench-desk-visit",
        name="Приём терапевта",
        specialty=specialty,
        duration_minutes=STEP_MINUTES,
        price=Decimal(1500),
    )
    registrar = User.objects.create_user(email="bench-registrar@bench.example.test", password=None)
    StaffMembership.objects.create(user=registrar, role=Role.REGISTRAR, clinic=clinic)
    return Desk(clinic=clinic, service=service, registrar=registrar, day=day)


def add_booked_doctors(desk: Desk, count: int, *, patients: list) -> None:
    """`count` more doctors working `SHIFT` every day, each with every slot of the desk's day
    booked by the registrar by phone (patients taken in turn from `patients`)."""
    from scheduling.choices import RoomKind
    from scheduling.models import Doctor, Room, ScheduleRule
    from scheduling.selectors.availability import free_slots
    from scheduling.services.booking import appointment_book

    rules = []
    doctors = []
    for number in range(desk.doctors, desk.doctors + count):
        doctor = Doctor.objects.create(
            last_name=f"Регистратурова{number:02d}", first_name="Бенч", languages=["ru"]
        )
        doctor.specialties.add(desk.service.specialty)
        doctor.services.add(desk.service)
        doctor.clinics.add(desk.clinic)
        room = Room.objects.create(
            clinic=desk.clinic, name=f"Кабинет Р{number + 1}", kind=RoomKind.CONSULTATION
        )
        rules += [
            ScheduleRule(
                doctor=doctor,
                clinic=desk.clinic,
                weekday=weekday,
                start_time=SHIFT[0],
                end_time=SHIFT[1],
                slot_step_minutes=STEP_MINUTES,
                room=room,
                valid_from=desk.day - datetime.timedelta(days=7),
            )
            for weekday in range(7)
        ]
        doctors.append(doctor)
    ScheduleRule.objects.bulk_create(rules)
    desk.doctors += count
    for doctor in doctors:
        for slot in free_slots(
            service=desk.service,
            doctor=doctor,
            clinic=desk.clinic,
            channel="phone",
            start_date=desk.day,
            end_date=desk.day,
        ):
            appointment_book(
                patient=patients[desk.booked % len(patients)],
                doctor=doctor,
                service=desk.service,
                start=slot.start,
                channel="phone",
                actor=desk.registrar,
            )
            desk.booked += 1


def sign_in(desk: Desk) -> str:
    """A session cookie of the registrar (see `session_cookie`)."""
    desk.cookie = session_cookie(desk.registrar)
    return desk.cookie


def session_cookie(user) -> str:
    """A session cookie of a staff user, past the staff MFA check as a real sign-in leaves it."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.conf import settings
    from django.test import Client

    from portal.auth.policy import mark_session_mfa_set_up

    TOTP.activate(user, generate_totp_secret())
    client = Client()
    client.force_login(user)
    session = client.session
    mark_session_mfa_set_up(session, user)
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def count_board_queries(desk: Desk) -> tuple[int, int]:
    """Queries of one board page through the whole stack in-process, after a warm-up: rendered
    anew (the board's generation moved first, so its kept grid is not used) and read from the
    kept grid."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from scheduling.selectors.day_board import bump_board_generation

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = desk.cookie.split("=", 1)[1]
    counts = []
    for fresh in (True, True, False):
        if fresh:
            bump_board_generation()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(desk.board_path())
        if response.status_code != 200:
            raise RuntimeError(f"the day board answered {response.status_code}")
        counts.append(len(ctx.captured_queries))
    return counts[1], counts[2]


def seed_and_count(results: dict, *, patients: list, day: datetime.date) -> Desk:
    """Seed the desk's clinic at each of `DESK_SIZES` doctors, counting the board's queries."""
    started = time.perf_counter()
    desk = seed_desk_clinic(day=day)
    sign_in(desk)
    counts = {}
    kept = {}
    for size in DESK_SIZES:
        add_booked_doctors(desk, size - desk.doctors, patients=patients)
        counts[size], kept[size] = count_board_queries(desk)
        log(
            f"desk clinic: {desk.doctors} doctors, {desk.booked} visits, "
            f"{counts[size]} queries rendered, {kept[size]} from the kept grid"
        )
    results["desk"] = {
        "doctors": desk.doctors,
        "visits_on_the_day": desk.booked,
        "day": day.isoformat(),
        "queries_by_doctors": {str(size): count for size, count in counts.items()},
        "queries_by_doctors_kept_grid": {str(size): count for size, count in kept.items()},
        "seed_seconds": round(time.perf_counter() - started, 1),
    }
    results["queries_per_day_board"] = max(counts.values())
    results["queries_per_day_board_fixed"] = len(set(counts.values())) == 1
    results["queries_per_day_board_kept_grid"] = max(kept.values())
    return desk


def board_request(desk: Desk) -> loadgen.Request:
    return loadgen.Request("GET", desk.board_path(), headers={"Cookie": desk.cookie})


def drive(
    cfg,
    port: int,
    results: dict,
    desk: Desk,
    *,
    alternate,
    phase,
    cpu_meter=None,
    trivial_path: str = "/bench/trivial",
) -> None:
    """The day board against the trivial view, taking turns (`scenario.alternate`)."""
    trivial = loadgen.Request("GET", trivial_path)
    board = board_request(desk)
    probe = loadgen.Connection(port).send(board, keep_body=True)
    if probe.status != 200:
        raise RuntimeError(f"the day board answered {probe.status} over HTTP")
    results["desk"]["board_bytes"] = len(probe.body or b"")
    log(f"trivial view vs the day board ({desk.doctors} doctors), {cfg.rounds} rounds")
    measured = alternate(
        port,
        seconds=cfg.seconds,
        rounds=cfg.rounds,
        cpu_meter=cpu_meter,
        arms={
            "trivial_desk": (cfg.latency_clients, lambda i: loadgen.repeat(trivial)),
            "day_board": (cfg.latency_clients, lambda i: loadgen.repeat(board)),
        },
    )
    for name in ("trivial_desk", "day_board"):
        phase(results, name, measured[name], rounds=cfg.rounds)
    # The board's grid is cached until the board's version moves (a change of the day, or the
    # minute): the arm above reads it mostly warm. This one confirms one visit of the day
    # (through the booking service, before the request's timer starts) ahead of every
    # request, so each request renders the board anew: the cold cost, against its own trivial.
    log(f"trivial view vs the day board changed before every request, {cfg.rounds} rounds")
    cold = alternate(
        port,
        seconds=cfg.seconds,
        rounds=cfg.rounds,
        cpu_meter=cpu_meter,
        arms={
            "trivial_desk_cold": (cfg.latency_clients, lambda i: loadgen.repeat(trivial)),
            "day_board_cold": (
                cfg.latency_clients,
                lambda i: changed_boards(desk, board, i, cfg.latency_clients),
            ),
        },
    )
    for name in ("trivial_desk_cold", "day_board_cold"):
        phase(results, name, cold[name], rounds=cfg.rounds)


def changed_boards(desk: Desk, board: loadgen.Request, client: int, clients: int):
    """The board request, each time after confirming another booked visit of the day (client
    `client` of `clients` takes every `clients`-th one); ends when none is left to confirm."""
    from django.db import connection

    from scheduling.choices import AppointmentStatus
    from scheduling.models import Appointment
    from scheduling.services.booking import appointment_confirm

    booked = list(
        Appointment.objects.filter(clinic=desk.clinic, status=AppointmentStatus.BOOKED)
        .order_by("starts_at", "id")
        .values_list("pk", flat=True)
    )
    for pk in booked[client::clients]:
        appointment_confirm(appointment=Appointment.objects.get(pk=pk), actor=desk.registrar)
        # Each round's client threads are new: hand the connection back to the pool before
        # the request (a thread that ends holding it would keep it from the next rounds).
        connection.close()
        yield board


def ratios(results: dict) -> None:
    phases = results.get("phases", {})
    results["day_board_p95_ratio"] = report.ratio(
        phases.get("day_board", {}).get("p95_ms"), phases.get("trivial_desk", {}).get("p95_ms"), 1
    )
    results["day_board_cold_p95_ratio"] = report.ratio(
        phases.get("day_board_cold", {}).get("p95_ms"),
        phases.get("trivial_desk_cold", {}).get("p95_ms"),
        1,
    )
