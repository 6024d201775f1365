"""Helpers for audit-trail tests: tampering needs the append-only triggers out of the way."""

from __future__ import annotations

import contextlib

from django.db import connection

AUDIT_TABLES = ("portal_auditevent", "portal_auditseal")


@contextlib.contextmanager
def audit_triggers_disabled():
    """Let a test play the attacker with direct SQL. On PostgreSQL the append-only triggers are
    disabled inside the test's transaction and re-enabled after; SQLite has none."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
