"""`scheduling.db`: batched round trips and the plain-SQL helpers of the hot paths."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from scheduling import db
from scheduling.db import (
    as_uuid,
    aware_datetimes,
    db_datetime,
    insert_statement,
    run_batch,
    saved,
)
from scheduling.models import Specialty

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def specialty(slug: str) -> Specialty:
    return Specialty(slug=slug, name=slug.title())


def test_a_batch_answers_each_statements_rows_in_order():
    first, inserted, last = run_batch(
        [
            ("SELECT %s + 1", [1]),
            insert_statement([specialty("cardiology"), specialty("neurology")]),
            ("SELECT slug FROM scheduling_specialty ORDER BY slug", []),
        ]
    )
    assert first == [(2,)]
    assert inserted == []  # an INSERT without RETURNING answers no rows
    assert last == [("cardiology",), ("neurology",)]


def test_one_statement_alone_is_sent_as_it_is():
    assert run_batch([("SELECT %s", ["one"])]) == [[("one",)]]


def test_an_insert_can_answer_its_new_id_and_the_object_is_marked_saved():
    entry = specialty("dermatology")
    ((new_id,),) = run_batch([insert_statement([entry], returning_pk=True)])[0]
    saved(entry, new_id)
    assert Specialty.objects.get(pk=entry.pk).slug == "dermatology"
    assert not entry._state.adding
    entry.name = "Skin"
    entry.save(update_fields=["name"])  # a saved object updates rather than inserts
    assert Specialty.objects.get(slug="dermatology").name == "Skin"


def test_a_failing_statement_raises_djangos_error_and_the_rest_does_not_run():
    Specialty.objects.create(slug="taken", name="Taken")
    with pytest.raises(IntegrityError), transaction.atomic():
        run_batch(
            [
                ("SELECT 1", []),
                insert_statement([specialty("taken")]),
                insert_statement([specialty("never-inserted")]),
            ]
        )
    assert not Specialty.objects.filter(slug="never-inserted").exists()


@on_postgresql
def test_with_server_side_binding_each_pipelined_statement_is_logged():
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    with CaptureQueriesContext(connection) as ctx:
        rows = run_batch([("SELECT %s::int", [1]), ("SELECT %s::int", [2])])
    assert rows == [[(1,)], [(2,)]]
    assert [q["sql"] for q in ctx.captured_queries] == ["SELECT 1::int", "SELECT 2::int"]


@on_postgresql
def test_execute_wrappers_see_each_pipelined_statement():
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert run_batch([("SELECT %s::int", [1]), ("SELECT %s::int", [2])]) == [[(1,)], [(2,)]]
    assert seen == ["SELECT %s::int", "SELECT %s::int"]


@on_postgresql
def test_a_batch_in_a_broken_transaction_is_refused_as_django_refuses_a_query():
    from django.db.transaction import TransactionManagementError

    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            run_batch([("SELECT 1", []), ("SELECT 2", [])])


@on_postgresql
def test_with_client_side_binding_the_statements_travel_as_one_query(monkeypatch):
    """The served profile binds on the server (pipeline mode); a deployment that turns that off
    gets the same answers from one multi-statement query."""
    options = {**connection.settings_dict["OPTIONS"], "server_side_binding": False}
    options.pop("pool", None)  # a connection of its own: a second pool would outlive the test
    settings_dict = {**connection.settings_dict, "OPTIONS": options}
    client_side = type(connections["default"])(settings_dict, alias="client_side")
    monkeypatch.setattr(db, "connections", {"default": client_side})
    try:
        with CaptureQueriesContext(client_side) as ctx:
            rows = run_batch(
                [("SELECT %s::int * 2", [21]), ("SELECT 'x' WHERE false", []), ("SELECT 1", [])]
            )
        assert rows == [[(42,)], [], [(1,)]]
        assert len(ctx.captured_queries) == 1
    finally:
        client_side.close()


def test_datetimes_as_parameters_compare_like_the_orms():
    moment = datetime.datetime(2027, 3, 2, 9, 0, tzinfo=datetime.UTC)
    entry = Specialty.objects.create(slug="timed", name="Timed")
    Specialty.objects.filter(pk=entry.pk).update(created_at=moment)
    ((found,),) = run_batch(
        [("SELECT slug FROM scheduling_specialty WHERE created_at = %s", [db_datetime(moment)])]
    )[0]
    assert found == "timed"
    assert db_datetime(None) is None


def test_datetime_columns_come_back_aware_in_utc():
    moment = datetime.datetime(2027, 3, 2, 9, 0, tzinfo=datetime.UTC)
    entry = Specialty.objects.create(slug="aware", name="Aware")
    Specialty.objects.filter(pk=entry.pk).update(created_at=moment)
    rows = run_batch(
        [("SELECT slug, created_at FROM scheduling_specialty WHERE id = %s", [entry.pk])]
    )[0]
    ((slug, created_at),) = aware_datetimes(rows, (1,))
    assert (slug, created_at) == ("aware", moment)
    assert created_at.utcoffset() == datetime.timedelta(0)
    assert aware_datetimes([(None,)], (0,)) == [(None,)]


def test_uuid_columns_come_back_as_uuids():
    value = uuid.uuid4()
    assert as_uuid(value) is value
    assert as_uuid(value.hex) == value
    assert as_uuid(None) is None
    entry = Specialty.objects.create(slug="uuid", name="Uuid")
    ((public_id,),) = run_batch(
        [("SELECT public_id FROM scheduling_specialty WHERE id = %s", [entry.pk])]
    )[0]
    assert as_uuid(public_id) == entry.public_id


def test_the_default_connection_is_the_one_batches_use():
    assert db.connections is connections


def test_a_row_of_some_columns_gives_an_instance_with_the_rest_deferred(patient):
    from portal.models import Patient

    fields = ("phone", "id", "public_id")  # any order: columns follow the model's
    (rows,) = run_batch(
        [
            (
                f"SELECT {db.select_columns(Patient, 't', fields)} FROM portal_patient t"  # noqa: S608
                " WHERE t.id = %s",
                [patient.pk],
            )
        ]
    )
    lean = db.model_from_row(Patient, rows[0], fields=fields)
    assert (lean.pk, lean.public_id, lean.phone) == (patient.pk, patient.public_id, patient.phone)
    assert "last_name" in lean.get_deferred_fields()
    with CaptureQueriesContext(connection) as ctx:
        assert lean.last_name == patient.last_name  # decrypted on its own load
    assert len(ctx.captured_queries) == 1


def test_consecutive_inserts_travel_as_one_statement_on_postgresql():
    with CaptureQueriesContext(connection) as ctx:
        first, second, rows = run_batch(
            [
                insert_statement([specialty("cardiology")]),
                insert_statement([specialty("neurology"), specialty("urology")]),
                ("SELECT slug FROM scheduling_specialty ORDER BY slug", []),
            ]
        )
    assert (first, second) == ([], [])
    assert rows == [("cardiology",), ("neurology",), ("urology",)]
    merged = connection.vendor == "postgresql"
    assert len(ctx.captured_queries) == (2 if merged else 3)
    assert ctx.captured_queries[0]["sql"].startswith("WITH" if merged else "INSERT")


def test_a_failing_insert_among_merged_ones_leaves_none_of_them():
    Specialty.objects.create(slug="taken", name="Taken")
    with pytest.raises(IntegrityError), transaction.atomic():
        run_batch(
            [
                insert_statement([specialty("before")]),
                insert_statement([specialty("taken")]),
                insert_statement([specialty("after")]),
            ]
        )
    assert set(Specialty.objects.values_list("slug", flat=True)) == {"taken"}


def test_an_insert_that_answers_rows_is_not_merged():
    first, (returned,) = run_batch(
        [
            insert_statement([specialty("cardiology")]),
            insert_statement([specialty("neurology")], returning_pk=True),
        ]
    )
    assert first == []
    assert Specialty.objects.get(pk=returned[0]).slug == "neurology"


def _reserve(*models):
    columns, params = db.reserved_id_columns(*models)
    ((ids),) = run_batch([(f"SELECT {columns}", params)])[0]
    return ids


def test_reserved_ids_are_new_distinct_and_insertable():
    Specialty.objects.create(slug="existing", name="Existing")
    with transaction.atomic():
        first, second = _reserve(Specialty, Specialty)
        assert first > Specialty.objects.get().pk
        entry = specialty("reserved")
        entry.pk = first
        run_batch([insert_statement([entry], with_pk=True)])
        saved(entry, first)
        (after,) = _reserve(Specialty)
    assert Specialty.objects.get(pk=first).slug == "reserved"
    assert after > first
    if connection.vendor == "postgresql":
        assert second > first  # from the sequence: never handed out twice
    # Rows inserted the ordinary way later still get ids of their own.
    assert Specialty.objects.create(slug="later", name="Later").pk > first


def test_a_reserved_id_stays_above_a_deleted_highest_row():
    """SQLite's AUTOINCREMENT never reuses an id; neither does the reservation."""
    gone = Specialty.objects.create(slug="gone", name="Gone")
    gone_id = gone.pk
    gone.delete()
    (reserved,) = _reserve(Specialty)
    assert reserved > gone_id


def test_merging_joins_runs_of_plain_inserts_only_and_keeps_parameter_order():
    insert_a = ('INSERT INTO "a" ("x") VALUES (%s)', [1])
    insert_b = ('INSERT INTO "b" ("y", "z") VALUES (%s, %s)', [2, 3])
    returning = ('INSERT INTO "c" ("x") VALUES (%s) RETURNING "c"."id"', [4])
    select = ("SELECT %s", [5])
    merged = db._merge_inserts([insert_a, insert_b, select, insert_a, returning, insert_b])
    assert merged == [
        (
            (
                'WITH w0 AS (INSERT INTO "a" ("x") VALUES (%s)),'
                ' w1 AS (INSERT INTO "b" ("y", "z") VALUES (%s, %s)) SELECT 1',
                [1, 2, 3],
            ),
            2,
        ),
        (select, 1),
        (insert_a, 1),  # a run of one is sent as it is
        (returning, 1),  # answers rows: never merged
        (insert_b, 1),
    ]


def test_a_merge_stays_within_its_limits():
    wide = ('INSERT INTO "a" VALUES (' + ", ".join(["%s"] * 400) + ")", list(range(400)))  # noqa: S608
    long = ('INSERT INTO "b" ("' + "x" * 12_000 + '") VALUES (%s)', [1])
    merged = db._merge_inserts([wide, wide, wide, long, long, long, wide])
    assert [count for _statement, count in merged] == [2, 3, 2]
    for (sql, params), _count in merged:
        assert len(sql) <= db.MERGE_MAX_LENGTH
        assert len(params) <= db.MERGE_MAX_PARAMS


def _comparable(value):
    """Encryption is randomised: compare what a token says, not the token."""
    from portal.crypto import decrypt_text

    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, str) and value.startswith("gAAAA"):
        return ("decrypted", decrypt_text(value))
    if type(value).__name__ == "Jsonb":  # psycopg's wrapper compares by identity
        return ("json", value.obj)
    # The type too: it decides the parameter's type on the server (psycopg's Int4 is an int).
    return (type(value), value)


def test_cached_insert_texts_and_values_equal_the_orms_for_the_booking_rows(
    monkeypatch, patient, clinic_a, doctor, service
):
    import copy
    import decimal

    from django.utils import timezone

    from notifications.models import OutboxMessage
    from portal.models import AuditEvent
    from scheduling.models import Appointment, AppointmentEvent, Occupancy

    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)  # auto_now_add fields
    start = frozen + datetime.timedelta(days=1)
    cases = [
        ([Specialty(slug="one", name="One")], {}),
        ([Specialty(slug="one", name="One")], {"returning_pk": True}),
        ([Specialty(pk=77, slug="one", name="One")], {"with_pk": True}),
        ([specialty("a"), specialty("b"), specialty("c")], {}),
        ([specialty("a"), specialty("b")], {"returning_pk": True}),
        (
            [
                Occupancy(
                    resource_kind=kind,
                    resource_id=5,
                    clinic_id=clinic_a.pk,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(minutes=30),
                )
                for kind in ("d", "r")
            ],
            {},
        ),
        (
            [
                OutboxMessage(
                    event="appointment.booked",
                    channel=channel,
                    patient=patient,
                    to_address=f"{channel}-address",
                    context={"clinic": "Центр"},
                    due_at=frozen,
                )
                for channel in ("sms", "email")
            ],
            {},
        ),
        ([AuditEvent(occurred_at=frozen, action="create", object_type="x", object_id="1")], {}),
        (
            [
                Appointment(
                    pk=901,
                    patient=patient,
                    doctor=doctor,
                    clinic=clinic_a,
                    service=service,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(minutes=30),
                    buffer_minutes=5,
                    status="booked",
                    channel="online",
                    quota_channel="online",
                    price=decimal.Decimal("2500.00"),
                    booked_by=patient.user,
                    updated_by=patient.user,
                    created_at=frozen,
                    updated_at=frozen,
                )
            ],
            {"with_pk": True},
        ),
        (
            [
                AppointmentEvent(
                    pk=902,
                    appointment_id=901,
                    kind="booked",
                    from_status="",
                    to_status="booked",
                    actor=patient.user,
                    occurred_at=frozen,
                )
            ],
            {"with_pk": True},
        ),
        ([Appointment.equipment.through(appointment_id=901, equipment_id=3)], {}),
    ]
    for objs, options in cases:
        db.insert_statement(copy.deepcopy(objs), **options)  # compiles and caches the shape
        cached_sql, cached_params = db.insert_statement(copy.deepcopy(objs), **options)
        # Row by row, the ORM's own statement for that row: the same text, the same values.
        orm = [
            db._compiled_insert(
                [copy.deepcopy(obj)],
                returning_pk=options.get("returning_pk", False),
                with_pk=options.get("with_pk", False),
                using="default",
            )
            for obj in objs
        ]
        head, group_and_suffix = orm[0][0].split(" VALUES ", 1)
        group = group_and_suffix[: group_and_suffix.index(")") + 1]
        suffix = group_and_suffix[len(group) :]
        assert cached_sql == f"{head} VALUES {', '.join([group] * len(objs))}{suffix}"
        assert _comparable(cached_params) == _comparable([v for _sql, ps in orm for v in ps])
        if len(objs) == 1:
            assert cached_sql == orm[0][0]


def test_several_rows_inserted_by_the_cached_text_read_back_as_the_orm_writes_them():
    inserted = run_batch([db.insert_statement([specialty("a"), specialty("b")], returning_pk=True)])
    ids = [row[0] for row in inserted[0]]
    assert [Specialty.objects.get(pk=pk).slug for pk in ids] == ["a", "b"]


def test_an_expression_among_the_values_is_compiled_by_the_orm():
    from django.db.models.functions import Upper

    db.insert_statement([specialty("plain")])  # the shape is cached
    sql, params = db.insert_statement([Specialty(slug="shout", name=Upper(Value("quiet")))])
    run_batch([(sql, params)])
    assert Specialty.objects.get(slug="shout").name == "QUIET"


def test_a_row_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match="values for"):
        db.model_from_row(Specialty, (1, "x"))


def test_quick_preparation_is_the_orms_one_step_for_plain_fields_on_postgresql():
    from django.db import models

    from notifications.models import OutboxMessage
    from scheduling.models import Appointment, Occupancy

    class PostgreSQL:
        vendor = "postgresql"

        class ops:  # noqa: N801 - stands in for connection.ops
            integerfield_type_map = {"BigIntegerField": "Int8", "IntegerField": "Int4"}

    class Other:
        vendor = "sqlite"

    def quick(model, name, on=PostgreSQL):
        return db._quick_preparation(model._meta.get_field(name), on)

    assert quick(Occupancy, "resource_kind") == ((str,), None)
    assert quick(Occupancy, "resource_id") == ((int,), "Int8")
    assert quick(Occupancy, "starts_at") == ((datetime.datetime,), None)
    assert quick(Occupancy, "appointment") == ((int,), None)  # a foreign key: its target's
    assert quick(Appointment, "id") == ((int,), None)
    assert quick(Appointment, "public_id") == ((uuid.UUID,), None)
    assert quick(Appointment, "price") == ((), None)  # decimals: the ORM's own way
    assert quick(OutboxMessage, "to_address") == ((), None)  # encrypted
    assert quick(OutboxMessage, "attempts") == ((), None)  # no driver type for it here
    assert quick(Occupancy, "resource_kind", on=Other) == ((), None)
    assert db._quick_preparation(models.SmallAutoField(primary_key=True), PostgreSQL) == (
        (int,),
        None,
    )
