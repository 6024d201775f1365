"""Database pieces that exist only on PostgreSQL but must not break SQLite, and the batched
round trips of the hot paths."""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Sequence

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connections, models
from django.db.models import Func
from django.db.models.fields import AutoFieldMixin
from django.db.models.sql import InsertQuery

from scheduling import pipeline


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


# --- Round trips on hot paths ---------------------------------------------------------------------
#
# The free-slot engine and the booking write path run a handful of statements per request; on a
# busy server much of their cost is not the SQL but building it through the ORM and waiting for
# each answer in turn. These helpers run plain parameterised statements (`%s` placeholders) and,
# on PostgreSQL, send a whole list in one round trip: with server-side binding (the served
# profiles, see settings) in psycopg's pipeline mode, where repeated statements are prepared
# once per connection; with client-side binding as one multi-statement query.


def run_batch(statements, *, using: str = DEFAULT_DB_ALIAS) -> list[list[tuple]]:
    """Run `statements` (pairs of SQL text and parameters) in order; the rows of each.

    One round trip on PostgreSQL, one per statement elsewhere. A statement that returns no rows
    (an INSERT without RETURNING) answers an empty list. The first failing statement raises
    Django's error for it and the rest do not run, as if they had been sent one by one (on
    PostgreSQL consecutive INSERTs may travel as one statement: `_merge_inserts`).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return _one_by_one(connection, statements)
    merged = _merge_inserts(statements)
    to_send = [statement for statement, _count in merged]
    options = connection.settings_dict.get("OPTIONS") or {}
    if not options.get("server_side_binding"):
        results = (
            _joined(connection, to_send) if len(to_send) > 1 else _one_by_one(connection, to_send)
        )
    elif connection.queries_logged or connection.execute_wrappers:
        # Through Django's cursors, so that what logs or wraps statements sees each of them.
        results = (
            _pipelined(connection, to_send)
            if len(to_send) > 1
            else _one_by_one(connection, to_send)
        )
    else:
        results = _libpq_pipeline(connection, to_send)
    # A merged statement stands for `count` INSERTs, each of which answers no rows.
    answers = []
    for rows, (_statement, count) in zip(results, merged, strict=True):
        answers.extend([rows] if count == 1 else [[] for _ in range(count)])
    return answers


# A merge of INSERTs stays below these, far from PostgreSQL's 65535 parameters; the batch's
# statements are converted and prepared once per text (`scheduling.pipeline`), however long.
MERGE_MAX_LENGTH = 32_768
MERGE_MAX_PARAMS = 1_000


def _is_plain_insert(sql: str) -> bool:
    return sql.startswith("INSERT INTO ") and " RETURNING " not in sql


def _merge_inserts(statements) -> list[tuple[tuple[str, list], int]]:
    """PostgreSQL: consecutive INSERTs without RETURNING as one statement of data-modifying
    CTEs (each statement has a fixed cost on both ends, whatever it writes). Such INSERTs
    answer no rows, and if one fails the statement fails as a whole, which leaves the
    transaction as failed as the first failing INSERT would; nothing else is merged (a DELETE
    beside an INSERT of the same table in one statement could run after it)."""
    merged: list[tuple[tuple[str, list], int]] = []
    run: list[tuple[str, list]] = []

    def fits(sql: str, params: list) -> bool:
        text = sum(len(text) + 12 for text, _values in run) + len(sql) + 14
        count = sum(len(values) for _text, values in run) + len(params)
        return text <= MERGE_MAX_LENGTH and count <= MERGE_MAX_PARAMS

    def flush():
        if len(run) == 1:
            merged.append((run[0], 1))
        elif run:
            parts = ", ".join(f"w{number} AS ({sql})" for number, (sql, _p) in enumerate(run))
            params = [value for _sql, values in run for value in values]
            merged.append((("WITH " + parts + " SELECT 1", params), len(run)))
        run.clear()

    for sql, params in statements:
        if _is_plain_insert(sql):
            if run and not fits(sql, params):
                flush()
            run.append((sql, params))
            continue
        flush()
        merged.append(((sql, params), 1))
    flush()
    return merged


def _one_by_one(connection, statements) -> list[list[tuple]]:
    results = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            results.append(_rows(cursor))
    return results


def _libpq_pipeline(connection, statements) -> list[list[tuple]]:
    """`scheduling.pipeline`: the batch in one write and one read, with Django's checks before
    and its error translation around it."""
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        return pipeline.run(connection, statements)


def _pipelined(connection, statements) -> list[list[tuple]]:
    """psycopg's pipeline mode through Django's cursors (one per statement, holding its
    answer): every statement is sent before any answer is awaited, and whatever logs or wraps
    Django's statements sees each one."""
    cursors = [connection.cursor() for _ in statements]
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        return [_rows(cursor) for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _joined(connection, statements) -> list[list[tuple]]:
    """Client-side binding: the statements travel as one query, answering one result set each."""
    with connection.cursor() as cursor:
        cursor.execute(
            ";\n".join(sql for sql, _params in statements),
            [value for _sql, params in statements for value in params],
        )
        results = [_rows(cursor)]
        while cursor.nextset():
            results.append(_rows(cursor))
        return results


def _rows(cursor) -> list[tuple]:
    # Not `cursor.description`: psycopg builds every column's description to answer it.
    try:
        return cursor.fetchall()
    except ProgrammingError:  # Django's, from psycopg's: no result (an INSERT)
        return []


def aware_datetimes(rows: list[tuple], columns: tuple[int, ...], *, using: str = DEFAULT_DB_ALIAS):
    """`rows` with the given columns as aware UTC datetimes.

    PostgreSQL answers `timestamptz` columns aware already; SQLite stores Django's datetimes as
    naive UTC text, which its converters turn into naive datetimes.
    """
    if connections[using].vendor == "postgresql":
        return rows
    out = []
    for row in rows:
        row = list(row)
        for column in columns:
            if row[column] is not None:
                row[column] = row[column].replace(tzinfo=datetime.UTC)
        out.append(tuple(row))
    return out


def as_uuid(value) -> uuid.UUID | None:
    """A UUID column's value: PostgreSQL answers UUIDs, SQLite 32 hex digits."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value)


def db_datetime(value: datetime.datetime | None, *, using: str = DEFAULT_DB_ALIAS):
    """An aware datetime as a parameter of plain SQL, stored the way the ORM stores it (SQLite
    keeps naive UTC text; a raw parameter would carry its offset and compare as another text)."""
    if value is None:
        return None
    return connections[using].ops.adapt_datetimefield_value(value)


def insert_statement(
    objs, *, returning_pk: bool = False, with_pk: bool = False, using: str = DEFAULT_DB_ALIAS
):
    """One INSERT of unsaved `objs` (all of one model) as a statement for `run_batch`, with
    values prepared exactly as `bulk_create` prepares them (defaults, `pre_save`, encryption
    of encrypted fields). Primary keys come from the database, or with `with_pk` from the
    objects (ids reserved by `reserved_id_columns`). With `returning_pk` the statement answers
    the new ids, in order.

    The text depends only on the model, the number of rows and the options, so it is compiled
    by the ORM once per connection and shape; later calls only prepare the values, the way the
    ORM's insert compiler does (`_InsertShape`)."""
    connection = connections[using]
    model = type(objs[0])
    key = (model, len(objs), returning_pk, with_pk)
    cache = connection.__dict__.setdefault("_medfront_insert_shapes", {})
    shape = cache.get(key)
    if shape is None:
        shape = cache[key] = _InsertShape.of(model, len(objs), returning_pk, with_pk, connection)
    if shape.fields is not None:
        statement = shape.statement(objs, connection)
        if statement is not None:
            return statement
    return _compiled_insert(objs, returning_pk=returning_pk, with_pk=with_pk, using=using)


def _insert_fields(model, with_pk: bool) -> list:
    return [
        f
        for f in model._meta.concrete_fields
        if not f.generated and (with_pk or not isinstance(f, AutoFieldMixin))
    ]


def _compiled_insert(objs, *, returning_pk: bool, with_pk: bool, using: str):
    """The ORM's own compilation of the INSERT (`bulk_create`'s)."""
    model = type(objs[0])
    query = InsertQuery(model)
    query.insert_values(_insert_fields(model, with_pk), objs)
    compiler = query.get_compiler(using=using)
    if returning_pk:
        compiler.returning_fields = [model._meta.pk]
    (statement,) = compiler.as_sql()
    return statement[0], list(statement[1])


class _InsertShape:
    """An INSERT's text for one model, row count and options: the ORM's compilation for one
    row (from a placeholder object), its VALUES group repeated for several rows, with the
    parameters row after row. (For several rows the ORM itself sends PostgreSQL one array per
    column through UNNEST, which saves planning a large bulk insert; a prepared statement is
    planned once anyway, and a handful of rows' plain values cost far less to send than
    arrays.) `fields` is None when the ORM would not use one plain placeholder per value (a
    field with its own placeholder), and `statement` answers None for values it must compile
    itself (expressions)."""

    def __init__(self, sql: str, fields, connection=None):
        self.sql, self.fields = sql, fields
        # Per field: its attribute name when `pre_save` only reads it, and the value types the
        # ORM prepares in one known step (`_quick_preparation`) with that step.
        self.plan = [
            (
                field,
                field.attname if type(field).pre_save is models.Field.pre_save else None,
                *_quick_preparation(field, connection),
            )
            for field in fields or ()
        ]

    @classmethod
    def of(cls, model, rows: int, returning_pk: bool, with_pk: bool, connection):
        fields = _insert_fields(model, with_pk)
        if any(hasattr(field, "get_placeholder") for field in fields):
            return cls("", None)
        one_row, _params = _compiled_insert(
            [model()], returning_pk=returning_pk, with_pk=with_pk, using=connection.alias
        )
        head, values = one_row.split(" VALUES ", 1)
        group, suffix = values[: values.index(")") + 1], values[values.index(")") + 1 :]
        return cls(f"{head} VALUES {', '.join([group] * rows)}{suffix}", fields, connection)

    def statement(self, objs, connection):
        params = []
        for obj in objs:
            for field, attname, quick_types, step in self.plan:
                value = field.pre_save(obj, True) if attname is None else getattr(obj, attname)
                if value is None:
                    params.append(None)
                    continue
                if type(value) in quick_types and not (
                    type(value) is datetime.datetime and value.tzinfo is None  # the ORM warns
                ):
                    params.append(value if step is None else step(value))
                    continue
                if hasattr(value, "resolve_expression"):
                    return None
                params.append(field.get_db_prep_save(value, connection=connection))
        return self.sql, params


# Field classes whose preparation for PostgreSQL hands a value of these types to the driver as
# it is (`get_prep_value` converts to the same value, `get_db_prep_value` adapts nothing), and
# None stays None. Exact classes only: a subclass (an encrypted field) prepares its own way.
_UNCHANGED_ON_POSTGRESQL = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.SlugField: (str,),
    models.EmailField: (str,),
    models.BooleanField: (bool,),
    models.DateField: (datetime.date,),
    models.DateTimeField: (datetime.datetime,),
    models.TimeField: (datetime.time,),
    models.UUIDField: (uuid.UUID,),
}
_INTEGER_FIELDS = (
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
)


def _quick_preparation(field, connection) -> tuple[tuple[type, ...], object]:
    """The value types for which `field.get_db_prep_save` on this connection comes down to one
    known step, and that step (None: the value as it is). Integers get the driver type the
    ORM gives them (psycopg's Int4 and friends, which fix the parameter's type on the server);
    an auto-increment key stays a plain int; a foreign key is prepared as its target. Nothing
    is quick off PostgreSQL (dates and UUIDs become text there)."""
    if connection is None or connection.vendor != "postgresql":
        return (), None
    if type(field) is models.ForeignKey:
        return _quick_preparation(field.target_field, connection)
    if isinstance(field, AutoFieldMixin):
        return ((int,), None) if isinstance(field, models.IntegerField) else ((), None)
    if type(field) in _INTEGER_FIELDS:
        step = getattr(connection.ops, "integerfield_type_map", {}).get(field.get_internal_type())
        return ((int,), step) if step is not None else ((), None)
    return _UNCHANGED_ON_POSTGRESQL.get(type(field), ()), None


def reserved_id_columns(*models, using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
    """Select-list expressions (and their parameters) answering a new primary key for each of
    `models` (distinct models), to insert later in this transaction with
    `insert_statement(..., with_pk=True)`, so that rows referring to it can go in the same
    round trip; add them to a statement the transaction sends anyway. PostgreSQL takes the ids
    from the columns' sequences (never handed out twice); SQLite computes the next
    AUTOINCREMENT value, which is safe because its writers hold the write lock from BEGIN
    IMMEDIATE (settings) and insert before committing."""
    connection = connections[using]
    columns, params = [], []
    for model in models:
        table, column = model._meta.db_table, model._meta.pk.column
        if connection.vendor == "postgresql":
            columns.append("nextval(pg_get_serial_sequence(%s, %s))")
            params += [table, column]
        else:
            quoted = connection.ops.quote_name
            highest = f"SELECT MAX({quoted(column)}) FROM {quoted(table)}"  # noqa: S608 - our names
            sequence = "SELECT seq FROM sqlite_sequence WHERE name = %s"
            columns.append(f"MAX(COALESCE(({sequence}), 0), COALESCE(({highest}), 0)) + 1")
            params.append(table)
    return ", ".join(columns), params


def saved(obj, pk, *, using: str = DEFAULT_DB_ALIAS):
    """`obj`, inserted by `insert_statement(..., returning_pk=True)`, marked as a saved row."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using
    return obj


def _fields_of(model, names: Sequence[str] | None):
    """The named concrete fields in the model's own order (`Model.from_db` expects it)."""
    if names is None:
        return model._meta.concrete_fields
    wanted = {model._meta.get_field(name) for name in names}
    return [field for field in model._meta.concrete_fields if field in wanted]


def select_columns(model, alias: str, fields: Sequence[str] | None = None) -> str:
    """The column list of `model`'s concrete fields (or of the named `fields`) for plain SQL,
    in `model_from_row`'s order (worked out once per model, alias and fields)."""
    return _select_columns(model, alias, None if fields is None else tuple(fields))


@functools.lru_cache(maxsize=256)
def _select_columns(model, alias: str, fields: tuple[str, ...] | None) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in _fields_of(model, fields))


def model_from_row(
    model, row, *, fields: Sequence[str] | None = None, using: str = DEFAULT_DB_ALIAS
):
    """A `model` instance from a row of `select_columns(model, ..., fields)`, with the values
    converted as the ORM converts them (UUIDs, aware datetimes, JSON, encrypted fields). Fields
    not selected are deferred, as with `QuerySet.only`: they load on first access."""
    connection = connections[using]
    attnames, converting = _row_converters(connection, model, fields)
    values = list(row)
    if len(values) != len(attnames):
        raise ValueError(f"{len(values)} values for {len(attnames)} fields of {model.__name__}")
    for index, column, converters in converting:
        value = values[index]
        for converter in converters:
            value = converter(value, column, connection)
        values[index] = value
    return model.from_db(using, attnames, values)


def _row_converters(connection, model, fields):
    """The selected fields' attribute names and, for those that have any, the ORM's converters:
    worked out once per connection, model and field list (the ORM does it once per query)."""
    cache = connection.__dict__.setdefault("_medfront_row_converters", {})
    key = (model, None if fields is None else tuple(fields))
    found = cache.get(key)
    if found is None:
        selected = _fields_of(model, fields)
        converting = []
        for index, field in enumerate(selected):
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + field.get_db_converters(
                connection
            )
            if converters:
                converting.append((index, column, tuple(converters)))
        found = cache[key] = ([field.attname for field in selected], tuple(converting))
    return found


def lock_rows_clause(*, using: str = DEFAULT_DB_ALIAS) -> str:
    """` FOR UPDATE` where the database locks selected rows; SQLite's writers are serialized."""
    return " FOR UPDATE" if connections[using].features.has_select_for_update else ""


def db_uuid(value: uuid.UUID, *, using: str = DEFAULT_DB_ALIAS):
    """A UUID as a parameter of plain SQL, stored the way the ORM stores it (hex on SQLite)."""
    return value if connections[using].features.has_native_uuid_field else value.hex
