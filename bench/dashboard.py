"""The director's dashboard in `make bench`: its p95 as the history grows a hundredfold, and the
time to roll up one changed day.

It runs inside the CRM phase, on the same year of history (`bench.history`), loaded in two
steps: `SMALL` visits first, the rollups rebuilt and the dashboard measured (`*_small`
phases); then the rest of the history (a million in all), the rollups rebuilt again (timed as
`dashboard.rebuild_s`), and the dashboard measured again after the CRM's own measurement
(which reads leads, not rollups, so growing the history first changes nothing it measures).
Each measurement takes turns with the trivial view in the same slices.

- `dashboard_growth_ratio` = dashboard p95 on the full history ÷ its p95 on `SMALL` visits
  (target ≤ 1.5: the dashboard reads rollups, whose size follows days × clinics, not visits);
- `dashboard_p95_ratio` = dashboard p95 on the full history ÷ the trivial view's p95 in the
  same slices (target ≤ 250);
- `rollup_day_s` = one `rollups_refresh()` after `CANCELLED` booked visits of one clinic's
  day were cancelled through `appointment_cancel` (the refresh also rolls up today and
  yesterday of every clinic, as it always does).

The director is network-wide and signs in once in-process; the dashboard is asked for with
its defaults (the last 30 days, every clinic).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from bench import loadgen, report
from bench.console import log

SMALL = 10_000
CANCELLED = 5


@dataclass
class Dashboard:
    director: object
    cookie: str
    path: str


def history_steps(total: int, small: int = SMALL) -> tuple[int, int]:
    """The history's two loads: `small` visits, then the rest (all at once when `total` is not
    larger than `small`)."""
    if total <= small:
        return (total, 0)
    return (small, total - small)


def merge_loads(first: dict, second: dict | None) -> dict:
    """One figure of a history loaded in two steps: counts and times summed, the rest of the
    last step."""
    if not second:
        return dict(first)
    merged = dict(second)
    for key in ("appointments", "occupancy_rows", "copy_s", "occupancy_s", "load_s"):
        merged[key] = (
            round(first[key] + second[key], 1) if key.endswith("_s") else (first[key] + second[key])
        )
    merged["steps"] = [first["appointments"], second["appointments"]]
    return merged


def seed_director() -> Dashboard:
    from django.urls import reverse

    from bench import desk
    from portal.choices import Role
    from portal.models import StaffMembership, User

    director = User.objects.create_user(email="bench-director@bench.example.test", password=None)
    StaffMembership.objects.create(user=director, role=Role.DIRECTOR, clinic=None)
    return Dashboard(
        director=director,
        cookie=desk.session_cookie(director),
        path=reverse("analytics:dashboard"),
    )


def rebuild(results: dict, suffix: str) -> None:
    """`rollups_rebuild()` over everything loaded, timed into `results["dashboard"]`."""
    from analytics.models import DailyFact
    from analytics.services.rollups import rollups_rebuild

    figures = results.setdefault("dashboard", {})
    started = time.perf_counter()
    done = rollups_rebuild()
    figures[f"rebuild{suffix}_s"] = round(time.perf_counter() - started, 1)
    figures[f"rebuild{suffix}_pairs"] = done.pairs
    figures[f"daily_facts{suffix}"] = DailyFact.objects.count()
    log(f"dashboard: rollups rebuilt in {figures[f'rebuild{suffix}_s']} s ({done.pairs} days)")


def count_queries(dash: Dashboard, results: dict, suffix: str) -> None:
    """Statements of one dashboard page through the whole stack in-process, after a warm-up."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = dash.cookie.split("=", 1)[1]
    counts = []
    for _attempt in range(2):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(dash.path)
        if response.status_code != 200:
            raise RuntimeError(f"the dashboard answered {response.status_code}")
        counts.append(len(ctx.captured_queries))
    results[f"queries_per_dashboard{suffix}"] = counts[-1]
    results["dashboard"][f"page_bytes{suffix}"] = len(response.content)


def drive(
    cfg, port: int, results: dict, dash: Dashboard, *, suffix: str, alternate, phase, cpu_meter
) -> None:
    """The dashboard against the trivial view, taking turns."""
    trivial = loadgen.Request("GET", "/bench/trivial")
    page = loadgen.Request("GET", dash.path, headers={"Cookie": dash.cookie})
    probe = loadgen.Connection(port).send(page)
    if probe.status != 200:
        raise RuntimeError(f"the dashboard answered {probe.status} over HTTP")
    log(f"trivial view vs the director's dashboard{suffix}, {cfg.rounds} rounds")
    measured = alternate(
        port,
        seconds=cfg.seconds,
        rounds=cfg.rounds,
        cpu_meter=cpu_meter,
        arms={
            f"trivial_dashboard{suffix}": (cfg.latency_clients, lambda i: loadgen.repeat(trivial)),
            f"dashboard{suffix}": (cfg.latency_clients, lambda i: loadgen.repeat(page)),
        },
    )
    for name in (f"trivial_dashboard{suffix}", f"dashboard{suffix}"):
        phase(results, name, measured[name], rounds=cfg.rounds)


def rollup_day(dash: Dashboard, results: dict) -> None:
    """Cancel `CANCELLED` booked visits of one clinic's day through the service, then time the
    incremental refresh that rolls the day up."""
    from django.db.models import Count
    from django.utils import timezone

    from analytics.services.rollups import rollups_refresh
    from scheduling.choices import AppointmentStatus
    from scheduling.models import Appointment, ScheduleRule
    from scheduling.services.booking.status import appointment_cancel

    upcoming = Appointment.objects.filter(
        status__in=(AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
        starts_at__gte=timezone.now() + datetime.timedelta(days=1),
        starts_at__lt=timezone.now() + datetime.timedelta(days=2),
    )
    busiest = upcoming.values("clinic_id").annotate(n=Count("id")).order_by("-n").first()
    if busiest is None:
        raise RuntimeError("no booked visit tomorrow to cancel")
    visits = list(upcoming.filter(clinic_id=busiest["clinic_id"]).order_by("starts_at")[:CANCELLED])
    # The seeding wrote the weekly rules minutes ago, inside the refresh's re-read window, so
    # the refresh would take them for a schedule change and redo a year. A network's rules
    # were set long before: date them a day back, so only the day changed here is dirty.
    ScheduleRule.objects.update(updated_at=timezone.now() - datetime.timedelta(days=1))
    for visit in visits:
        appointment_cancel(appointment=visit, actor=dash.director, reason="Заболел")
    started = time.perf_counter()
    done = rollups_refresh()
    results["rollup_day_s"] = round(time.perf_counter() - started, 3)
    results["dashboard"]["rollup_day_cancelled"] = len(visits)
    results["dashboard"]["rollup_day_pairs"] = done.pairs
    log(f"dashboard: one changed day rolled up in {results['rollup_day_s']} s ({done.pairs} days)")


def ratios(results: dict) -> None:
    phases = results.get("phases", {})
    full = phases.get("dashboard", {})
    small = phases.get("dashboard_small", {})
    trivial = phases.get("trivial_dashboard", {})
    results["dashboard_growth_ratio"] = report.ratio(full.get("p95_ms"), small.get("p95_ms"), 2)
    results["dashboard_growth_p50_ratio"] = report.ratio(full.get("p50_ms"), small.get("p50_ms"), 2)
    results["dashboard_p95_ratio"] = report.ratio(full.get("p95_ms"), trivial.get("p95_ms"), 1)
    results["dashboard_p50_ratio"] = report.ratio(full.get("p50_ms"), trivial.get("p50_ms"), 1)
