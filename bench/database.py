"""The bench database: recreated and dropped around a run, Django set up and migrated against
it, and what the in-process parts read from it."""

from __future__ import annotations

import contextlib
import os

from bench import engine_seed
from bench.config import Config, bench_environment


def recreate_database(cfg: Config) -> None:
    import psycopg

    for maintenance in (cfg.maintenance_url, cfg.maintenance_url.rsplit("/", 1)[0] + "/test"):
        try:
            conn = psycopg.connect(maintenance, autocommit=True, connect_timeout=10)
            break
        except psycopg.OperationalError:
            conn = None
    if conn is None:
        raise RuntimeError("cannot reach PostgreSQL's maintenance database")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg.database_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{cfg.database_name}"')


def drop_database(cfg: Config) -> None:
    import psycopg

    with psycopg.connect(cfg.maintenance_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg.database_name}" WITH (FORCE)')


@contextlib.contextmanager
def seeded_network(cfg: Config):
    """For the in-process tools (`bench.micro`, `bench.profile`, `bench.cpu`): this process
    set up as the served one, the bench database recreated, migrated and seeded as `make bench`
    seeds it; the seeded state is yielded, and the database dropped afterwards unless
    `BENCH_KEEP_DB=1`."""
    os.environ.update(bench_environment(cfg))
    for key in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(key, None)
    recreate_database(cfg)
    try:
        setup_django()
        migrate()
        yield engine_seed.seed_and_count(cfg, {})
    finally:
        from django.db import connections

        connections.close_all()
        if not cfg.keep_db:
            drop_database(cfg)


def setup_django() -> None:
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def desk_patients() -> list:
    """Patients the desk's bookings are made for (the bench network's, in a fixed order)."""
    from portal.models import Patient

    return list(Patient.objects.order_by("id")[:200])


def overlap_counts() -> dict[str, int]:
    """Overlapping active occupancy, counted by the database over everything booked."""
    from django.db import connection

    from scheduling.choices import OCCUPYING_STATUSES
    from scheduling.models import Appointment, Occupancy

    occupancy = Occupancy._meta.db_table
    appointment = Appointment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM {occupancy} a JOIN {occupancy} b
              ON a.resource_kind = b.resource_kind AND a.resource_id = b.resource_id
             AND a.id < b.id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
            """  # noqa: S608 - table names come from model metadata
        )
        occupancy_overlaps = cursor.fetchone()[0]
        cursor.execute(
            f"""
            SELECT count(*) FROM {appointment} a JOIN {appointment} b
              ON a.doctor_id = b.doctor_id AND a.id < b.id
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
             WHERE a.status = ANY(%s) AND b.status = ANY(%s)
            """,  # noqa: S608 - table names come from model metadata
            [list(OCCUPYING_STATUSES), list(OCCUPYING_STATUSES)],
        )
        appointment_overlaps = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {appointment}")  # noqa: S608
        appointments = cursor.fetchone()[0]
    return {
        "occupancy_overlaps": occupancy_overlaps,
        "appointment_overlaps": appointment_overlaps,
        "appointments_total": appointments,
    }
