"""`python -m bench.profile`: where the time of a free-slot request, a booking, the week
picker and the registrar's day board goes.

Seeds the same network as `make bench` into the bench database (recreated, then dropped), then
runs the measured requests in-process through Django's test client under cProfile and prints
the top functions by cumulative and by own time, plus the SQL of one booking and of one board.
Timings here are for reading proportions only; the figures to report come from `make bench`.

Environment: `BENCH_DATABASE_URL` as for `make bench`; `BENCH_PROFILE_REPEAT` (default 20);
`BENCH_PROFILE_PARTS`, a comma-separated choice of `slots,booking,picker,desk` (default all).

`python -m bench.profile crm` does the same for the CRM phase's two pages (the funnel over 12
months and a segment's count, as the marketer), printing each one's SQL with the database's
`EXPLAIN ANALYZE`. With `BENCH_REUSE_DB=1` it reads a database kept by an earlier run
(`BENCH_ONLY=crm BENCH_KEEP_DB=1 python -m bench.run`) instead of seeding one.

`python -m bench.profile dashboard` does the same for the director's dashboard (its defaults:
the last 30 days, every clinic), on a database kept by `BENCH_ONLY=dashboard BENCH_KEEP_DB=1
python -m bench.run` (a million visits take too long to seed for a profile): the warm page's
time, its SQL, the view's context against the template's rendering, and cProfile's tables.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time

from bench import config, database, desk, scenario

PARTS = ("slots", "booking", "picker", "desk")


def _stats(profile: cProfile.Profile, sort: str, limit: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()


def main() -> int:
    cfg = config.Config(dict(os.environ))
    repeat = max(1, min(int(os.environ.get("BENCH_PROFILE_REPEAT", "20")), 500))
    if sys.argv[1:] == ["crm"]:
        return _profile_crm(cfg, repeat)
    if sys.argv[1:] == ["dashboard"]:
        return _profile_dashboard(cfg, repeat)
    asked = os.environ.get("BENCH_PROFILE_PARTS", ",".join(PARTS))
    parts = {part.strip() for part in asked.split(",") if part.strip()}
    if not parts or parts - set(PARTS):
        raise SystemExit(f"BENCH_PROFILE_PARTS: a comma-separated choice of {', '.join(PARTS)}")
    with database.seeded_network(cfg) as state:
        _profile(state, repeat, parts)
    return 0


def _profile_crm(cfg, repeat: int) -> int:
    from bench import crm

    os.environ.update(config.bench_environment(cfg))
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(key, None)
    reuse = os.environ.get("BENCH_REUSE_DB") == "1"
    if not reuse:
        database.recreate_database(cfg)
    try:
        database.setup_django()
        if reuse:
            from django.utils import timezone

            from portal.models import User

            state = crm.Crm(today=timezone.localdate())
            state.marketer = User.objects.get(email="bench-marketer@bench.example.test")
        else:
            database.migrate()
            state = crm.seed({})
        _profile_pages(state, repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not reuse and not cfg.keep_db:
            database.drop_database(cfg)
    return 0


def _profile_dashboard(cfg, repeat: int) -> int:
    os.environ.update(config.bench_environment(cfg))
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(key, None)
    database.setup_django()
    try:
        from django.test import Client
        from django.urls import reverse

        from portal.auth.policy import mark_session_mfa_set_up
        from portal.models import User

        path = reverse("analytics:dashboard")
        director = User.objects.get(email="bench-director@bench.example.test")
        client = Client()
        client.force_login(director)
        session = client.session
        mark_session_mfa_set_up(session, director)
        session.save()

        def send():
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"the dashboard answered {response.status_code}")
            return response

        body = send().content
        print(f"== dashboard: {len(body)} bytes")
        print(f"   whole request (test client), best of {repeat}: {_best(send, repeat):.1f} ms")
        _sql("one dashboard", send)
        _profiled("dashboard", send, repeat)
    finally:
        from django.db import connections

        connections.close_all()
    return 0


def _profile_pages(state, repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(state.marketer)
    # Past the staff MFA check, as `bench.desk.session_cookie` leaves a real sign-in.
    from portal.auth.policy import mark_session_mfa_set_up

    session = client.session
    mark_session_mfa_set_up(session, state.marketer)
    session.save()
    for name, path in (
        ("funnel", state.funnel_path()),
        ("segment count", state.segment_count_path()),
    ):
        client.get(path)
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        print(f"== {name}: best {timings[0]:.1f} ms, median {timings[len(timings) // 2]:.1f} ms")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(max(1, repeat // 4)):
            client.get(path)
        profile.disable()
        print(_stats(profile, "cumulative", 25))
        for number, query in enumerate(ctx.captured_queries, 1):
            print(f"{number:3d} {query['time']}s {query['sql'][:400]}")
            if float(query["time"]) > 0.005 and query["sql"].lstrip().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    print("\n".join("      " + line for (line,) in cursor.fetchall()))


def _profiled(label: str, send, repeat: int):
    """`send()` `repeat` times under cProfile; prints the time per call and both tables."""
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(repeat):
        response = send()
    profile.disable()
    elapsed = (time.perf_counter() - started) / repeat * 1000
    print(f"== {label}: {elapsed:.1f} ms per request (profiled)")
    print(_stats(profile, "cumulative"))
    print(_stats(profile, "tottime"))
    return response


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def _sql(label: str, send) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        send()
    total = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    print(f"== SQL of {label} ({len(ctx.captured_queries)} queries, {total:.2f} ms in the driver)")
    for number, query in enumerate(ctx.captured_queries, 1):
        print(f"{number:3d} {query['time']}s {query['sql'][:300]}")
    print()


def _profile(state, repeat: int, parts: set[str]) -> None:
    network, today = state.network, state.today
    anonymous = scenario.api_client()
    path = scenario.measured_slots_path(network, today)
    response = anonymous.get(path)
    slots = response.json()
    if "slots" in parts:
        _breakdown(network, today, anonymous, path, repeat)
        _profiled(f"free slots ({len(slots)} slots)", lambda: anonymous.get(path), repeat)
    if "picker" in parts:
        _picker(network, repeat)
    if "booking" in parts:
        _booking(network, slots, repeat)
    if "desk" in parts:
        _desk(state, repeat)


def _picker(network, repeat: int) -> None:
    anonymous = scenario.api_client()
    path = scenario.picker_path(network)

    def send():
        return anonymous.get(path, HTTP_HX_REQUEST="true")

    send()
    print(f"== week picker, best of {repeat}, unprofiled: {_best(send, repeat):.2f} ms")
    _sql("one week picker", send)
    _profiled("week picker", send, repeat)


def _desk(state, repeat: int) -> None:
    """The registrar's day board of `bench.desk`'s clinic: 40 doctors, a full day booked."""
    import datetime

    from django.conf import settings
    from django.template.loader import render_to_string
    from django.test import Client, RequestFactory
    from django.utils import timezone

    from scheduling.selectors.day_board import bump_board_generation, day_board
    from scheduling.views.desk import _board_context

    day = state.today + datetime.timedelta(days=1)
    board = desk.seed_and_count({}, patients=database.desk_patients(), day=day)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = board.cookie.split("=", 1)[1]
    path = board.board_path()

    def send():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"the day board answered {response.status_code}")
        return response

    body = send().content
    print(f"== day board: {board.doctors} doctors, {board.booked} visits, {len(body)} bytes")

    def selector():
        return day_board(clinic=board.clinic, day=day, now=timezone.now())

    request = RequestFactory().get(path)
    request.user = board.registrar
    context = {**_board_context(request, board.clinic), "board": selector()}
    partial = "scheduling/desk/htmx/board.html"

    def changed():
        # A new generation moves the board's version: the grid is read and rendered anew.
        bump_board_generation()
        return send()

    def render():
        return render_to_string(partial, context, request)

    print(f"   whole request (test client)  {_best(send, repeat):8.2f} ms (grid cached)")
    print(f"   whole request, board changed {_best(changed, repeat):8.2f} ms")
    print(f"   day_board() selector         {_best(selector, repeat):8.2f} ms")
    context_ms = _best(lambda: _board_context(request, board.clinic), repeat)
    print(f"   board context (view, cached) {context_ms:8.2f} ms")
    print(f"   board partial render         {_best(render, repeat):8.2f} ms, {len(render())} chars")
    _sql("one day board, grid cached", send)
    _sql("one day board, changed", changed)
    _profiled("day board, grid cached", send, repeat)
    _profiled("day board, changed before each request", changed, repeat)


def _booking(network, slots: list[dict], repeat: int) -> None:
    patient = network.patients[1]
    client = scenario.api_client(patient.token)
    picks = slots[-2 * repeat - 1 :]
    client.post(
        "/api/v1/appointments/",
        data=scenario.booking_body(picks[0]),
        content_type="application/json",
    )
    timings = []
    for slot in picks[repeat + 1 :]:
        started = time.perf_counter()
        response = client.post(
            "/api/v1/appointments/",
            data=scenario.booking_body(slot),
            content_type="application/json",
        )
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 201:
            print(f"booking answered {response.status_code}: {response.content[:200]}")
    timings.sort()
    print(
        f"== booking, {len(timings)} serial bookings, unprofiled: "
        f"best {timings[0]:.1f} ms, median {timings[len(timings) // 2]:.1f} ms"
    )
    picks = picks[: repeat + 1]
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for slot in picks[1:]:
        response = client.post(
            "/api/v1/appointments/",
            data=scenario.booking_body(slot),
            content_type="application/json",
        )
        if response.status_code != 201:
            print(f"booking answered {response.status_code}: {response.content[:200]}")
    profile.disable()
    elapsed = (time.perf_counter() - started) / max(1, len(picks) - 1) * 1000
    print(f"== booking: {elapsed:.1f} ms per booking (profiled)")
    print(_stats(profile, "cumulative"))
    print(_stats(profile, "tottime"))
    _sql(
        "one booking",
        lambda: client.post(
            "/api/v1/appointments/",
            data=scenario.booking_body(slots[len(slots) // 3]),
            content_type="application/json",
        ),
    )


def _breakdown(network, today, anonymous, path: str, repeat: int) -> None:
    """Unprofiled wall time of the whole request and of its parts, and its SQL."""
    import datetime
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.api.slots import slot_dicts
    from scheduling.selectors.availability import free_slots

    service = network.services[scenario.SPECIALTY]
    specialty = network.specialties[scenario.SPECIALTY]
    end = today + datetime.timedelta(days=scenario.SLOT_DAYS - 1)

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return min(times)

    def engine():
        return free_slots(service=service, specialty=specialty, start_date=today, end_date=end)

    slots = engine()
    dicts = slot_dicts(slots, price=service.price)
    print(f"== free slots, best of {repeat}, unprofiled")
    print(f"   whole request (test client)  {best(lambda: anonymous.get(path)):8.2f} ms")
    print(f"   free_slots() selector        {best(engine):8.2f} ms")
    dicts_ms = best(lambda: slot_dicts(slots, price=service.price))
    print(f"   slot_dicts()                 {dicts_ms:8.2f} ms")
    print(f"   json.dumps of the answer     {best(lambda: json.dumps(dicts)):8.2f} ms")
    with CaptureQueriesContext(connection) as ctx:
        anonymous.get(path)
    total = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    print(f"   SQL: {len(ctx.captured_queries)} queries, {total:.2f} ms in the driver")
    for number, query in enumerate(ctx.captured_queries, 1):
        print(f"   {number:3d} {query['time']}s {query['sql'][:160]}")
    print()


if __name__ == "__main__":
    sys.exit(main())
