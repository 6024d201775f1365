"""Database pieces that exist only on PostgreSQL but must not break SQLite."""

from __future__ import annotations

import datetime
from typing import overload

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DateTimeField, Func


class UtcInstant(Func):
    """A `timestamptz` column read as its UTC wall time, for reads of thousands of instants.

    Django reads every `timestamptz` through a loader written in Python that attaches its time
    zone, a few microseconds a value: on a full day's occupancy that was most of the query's
    time. On PostgreSQL this reads `column AT TIME ZONE 'UTC'`, a plain `timestamp` that
    psycopg's C loader reads as a naive datetime; other backends read the column as usual.
    Pass every value through `as_utc`, which makes both aware.
    """

    template = "%(expressions)s"
    arity = 1
    output_field = DateTimeField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="(%(expressions)s AT TIME ZONE 'UTC')",
            **extra_context,
        )


@overload
def as_utc(value: datetime.datetime) -> datetime.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    """A value read through `UtcInstant`, aware in UTC (None stays None)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=datetime.UTC)


class TsTzRange(Func):
    """`tstzrange(start, end, '[)')`: back-to-back visits touch without overlapping."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that is a no-op on every backend but PostgreSQL.

    SQLite has no EXCLUDE; there the booking services run in serialized (IMMEDIATE)
    transactions and check overlaps themselves.
    """

    @staticmethod
    def _is_postgres(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        if not self._is_postgres(schema_editor):
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if not self._is_postgres(schema_editor):
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if not self._is_postgres(schema_editor):
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)
