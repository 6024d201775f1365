"""Django's PostgreSQL backend, loading `timestamptz` values with psycopg's C loader.

Django registers a loader of its own for `timestamptz` so that every value arrives in the
connection's time zone (UTC here); it is written in Python, parses each value with a regular
expression and is set up again for every cursor: about 5 µs a value and 10 µs a column of
every answer (`bench/`), which is much of reading an occupancy range. With the session's time
zone set to UTC, psycopg's own loader (C, in psycopg's binary package) answers the same aware
UTC datetimes (`tzinfo` is `datetime.UTC`), so it is used whenever Django wants UTC and the C
loader is there; otherwise this backend is Django's.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.backends.postgresql import base as django_postgresql

try:
    from psycopg import adapters as psycopg_adapters
    from psycopg.pq import Format
except ImportError:  # pragma: no cover - psycopg 3 is the stack's driver
    psycopg_adapters = None

TIMESTAMPTZ = "timestamptz"


def native_utc_loader():
    """psycopg's C `timestamptz` loader, or None where psycopg runs in pure Python."""
    if psycopg_adapters is None:  # pragma: no cover
        return None
    loader = psycopg_adapters.get_loader(psycopg_adapters.types[TIMESTAMPTZ].oid, Format.TEXT)
    if loader is None or not loader.__module__.startswith("psycopg_"):  # pragma: no cover
        return None
    return loader


class DatabaseWrapper(django_postgresql.DatabaseWrapper):
    # Set with each new connection: whether it loads timestamptz with psycopg's C loader.
    loads_utc_natively = False

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        loader = native_utc_loader()
        self.loads_utc_natively = bool(
            loader is not None
            and settings.USE_TZ
            and self.timezone is datetime.UTC
            and self.timezone_name == "UTC"
        )
        if self.loads_utc_natively:
            # Django's `init_connection_state` sets the session's TimeZone to UTC, which is
            # what the C loader reads when a cursor meets its first timestamptz column.
            connection.adapters.register_loader(TIMESTAMPTZ, loader)
        return connection

    def create_cursor(self, name=None):
        """Django's cursors without its check of the connection's timestamptz loader, which
        would find psycopg's and register Django's own on every cursor again."""
        if not self.loads_utc_natively:
            return super().create_cursor(name)
        if name is None:
            return self.connection.cursor()
        # Named (server-side) cursors, made as Django 5.2 makes them.
        if self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
            return django_postgresql.ServerSideCursor(
                self.connection, name=name, scrollable=False, withhold=self.connection.autocommit
            )
        return self.connection.cursor(name, scrollable=False, withhold=self.connection.autocommit)
