"""`scheduling.pipeline`: a batch in one round trip on libpq's pipeline mode.

It must answer what psycopg's cursors answer, keep psycopg's statement cache and the
transaction as they would, and leave the connection usable or closed, never in between.
"""

import datetime
import decimal
import uuid

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from scheduling import pipeline
from scheduling.db import insert_statement, run_batch
from scheduling.models import Specialty

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

PARAMETERS = [
    42,
    -(2**40),
    "тест 'quoted' %s",
    None,
    True,
    decimal.Decimal("1500.50"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    datetime.datetime(2027, 3, 28, 1, 30, 15, 250, tzinfo=datetime.UTC),
    datetime.date(2027, 2, 28),
    [3, 1, 2],
]


def new_specialty(slug: str):
    return insert_statement([Specialty(slug=slug, name=slug.title())])


def by_cursor(statements):
    answers = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            answers.append(cursor.fetchall() if cursor.description else [])
    return answers


def by_pipeline(statements):
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return pipeline.run(connection, statements)


def test_the_answers_are_psycopgs_for_every_parameter_type():
    statements = [
        ("SELECT %s::" + kind, [value])
        for value, kind in zip(
            PARAMETERS,
            ["int", "bigint", "text", "text", "bool", "numeric", "uuid", "timestamptz", "date"]
            + ["int[]"],
            strict=True,
        )
    ]
    statements += [
        ("SELECT generate_series(1, %s), 'a%%b'", [3]),
        ("SELECT 1 WHERE false", []),
        ("SELECT %s, %s", ["x", 2]),
    ]
    assert by_pipeline(statements) == by_cursor(statements)
    assert by_pipeline(statements)[-3] == [(1, "a%b"), (2, "a%b"), (3, "a%b")]


def test_an_insert_answers_no_rows_and_a_later_select_sees_it():
    inserted, found = by_pipeline(
        [
            new_specialty("pipe"),
            ("SELECT name FROM scheduling_specialty WHERE slug = %s", ["pipe"]),
        ]
    )
    assert (inserted, found) == ([], [("Pipe",)])


def test_a_repeated_statement_is_prepared_in_psycopgs_cache_and_on_the_server():
    connection.ensure_connection()
    conn = connection.connection
    sql = "SELECT %s::int + 7 AS pipeline_prepared"
    for number in range(conn.prepare_threshold + 2):
        assert by_pipeline([(sql, [number])]) == [[(number + 7,)]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%pipeline_prepared%"],
        )
        assert cursor.fetchone() == (1,)
    assert any(b"pipeline_prepared" in key[0] for key in conn._prepared._names)


def test_statements_cleared_by_psycopg_after_a_rollback_are_prepared_again():
    connection.ensure_connection()
    conn = connection.connection
    sql = "SELECT %s::int * 3 AS pipeline_cleared"
    for number in range(conn.prepare_threshold + 2):
        by_pipeline([(sql, [number])])
    with transaction.atomic():
        savepoint = transaction.savepoint()
        Specialty.objects.create(slug="rolled", name="Rolled")
        transaction.savepoint_rollback(savepoint)  # psycopg: ROLLBACK ... → DEALLOCATE ALL
    for number in range(conn.prepare_threshold + 2):
        assert by_pipeline([(sql, [number])]) == [[(number * 3,)]]


def test_statements_psycopg_drops_from_its_cache_are_deallocated_on_the_server():
    connection.ensure_connection()
    conn = connection.connection
    # A pooled connection comes back holding what earlier tests prepared, and psycopg shrinks
    # an overfull cache by one statement per new one: start from an empty cache.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    conn.prepared_max = 2
    try:
        for column in range(5):
            for _ in range(conn.prepare_threshold + 2):
                by_pipeline([(f"SELECT %s::int AS pipeline_max_{column}", [column])])
        cached = {
            name.decode()
            for key, name in conn._prepared._names.items()
            if b"pipeline_max_" in key[0]
        }
        # This batch first deallocates what psycopg dropped from its cache (`_to_flush`).
        (on_server,) = by_pipeline(
            [
                (
                    "SELECT name FROM pg_prepared_statements WHERE statement LIKE %s",
                    ["%pipeline_max_%"],
                )
            ]
        )
        assert {name for (name,) in on_server} == cached
        assert len(cached) <= 3
    finally:
        conn.prepared_max = 100


def test_without_a_prepare_threshold_nothing_is_prepared():
    connection.ensure_connection()
    conn = connection.connection
    threshold = conn.prepare_threshold
    conn.prepare_threshold = None
    try:
        for number in range(8):
            by_pipeline([("SELECT %s::int AS pipeline_never", [number])])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%pipeline_never%"],
            )
            assert cursor.fetchone() == (0,)
    finally:
        conn.prepare_threshold = threshold


def test_in_a_transaction_the_batch_begins_it_and_a_rollback_undoes_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        run_batch(
            [
                new_specialty("undone"),
            ]
        )
        assert Specialty.objects.filter(slug="undone").exists()
        raise RuntimeError("roll back")
    assert not Specialty.objects.filter(slug="undone").exists()


def test_the_first_failing_statement_raises_djangos_error_and_the_rest_do_not_run():
    with pytest.raises(IntegrityError), transaction.atomic():
        run_batch(
            [
                ("SELECT 1", []),  # SELECTs keep the INSERTs apart: not merged into one
                new_specialty("twice"),
                ("SELECT 2", []),
                new_specialty("twice"),  # the slug is unique
                ("SELECT 3", []),
                new_specialty("after"),
            ]
        )
    assert not Specialty.objects.filter(slug__in=["twice", "after"]).exists()
    assert run_batch([("SELECT 1", []), ("SELECT 2", [])]) == [[(1,)], [(2,)]]


@pytest.mark.parametrize(
    ("sql", "params"),
    [("SELECT %s, %s", [1]), ("SELECT %s", [1, 2]), ("SELECT %d", [1])],
)
def test_a_statement_that_does_not_fit_its_parameters_is_refused_before_sending(sql, params):
    with pytest.raises(ProgrammingError):
        by_pipeline([("SELECT 1", []), (sql, params)])
    assert not connection.connection.closed
    assert by_pipeline([("SELECT 1", [])]) == [[(1,)]]


def test_a_batch_larger_than_the_socket_buffers_and_a_large_answer_go_through():
    text = "x" * 3_000_000
    statements = [("SELECT length(%s)", [text])] + [("SELECT %s::int", [n]) for n in range(2000)]
    statements.append(("SELECT generate_series(1, 200000)", []))
    answers = by_pipeline(statements)
    assert answers[0] == [(3_000_000,)]
    assert [rows[0][0] for rows in answers[1:-1]] == list(range(2000))
    assert len(answers[-1]) == 200_000


def test_a_batch_cut_off_mid_protocol_closes_the_connection(monkeypatch):
    def interrupted(pgconn):
        raise KeyboardInterrupt

    connection.ensure_connection()
    monkeypatch.setattr(pipeline, "_send_and_collect", interrupted)
    with pytest.raises(KeyboardInterrupt):
        by_pipeline([("SELECT 1", []), ("SELECT 2", [])])
    assert connection.connection.closed
    assert not connection.is_usable()
    monkeypatch.undo()
    connection.close()
    assert run_batch([("SELECT 1", []), ("SELECT 2", [])]) == [[(1,)], [(2,)]]


def test_a_batch_the_socket_takes_in_parts_is_sent_in_full(monkeypatch):
    """libpq's flush answers 1 while part of the batch is still unsent: wait, read what has
    come, flush again."""
    collect = pipeline._send_and_collect
    flushes = []

    class SlowSocket:
        def __init__(self, pgconn):
            self._pgconn = pgconn

        def __getattr__(self, name):
            return getattr(self._pgconn, name)

        def flush(self):
            flushes.append(1)
            return 1 if len(flushes) < 3 else self._pgconn.flush()

    monkeypatch.setattr(pipeline, "_send_and_collect", lambda pgconn: collect(SlowSocket(pgconn)))
    assert by_pipeline([("SELECT %s::int", [1]), ("SELECT 2", [])]) == [[(1,)], [(2,)]]
    assert len(flushes) >= 3


def test_a_connection_keeps_one_transformer_and_a_new_connection_gets_its_own():
    assert by_pipeline([("SELECT %s::int", [1])]) == [[(1,)]]
    first = pipeline._transformer_of(connection, connection.connection)
    assert by_pipeline([("SELECT %s::text", ["a"])]) == [[("a",)]]
    assert pipeline._transformer_of(connection, connection.connection) is first
    connection.close()
    assert by_pipeline([("SELECT %s::int", [2])]) == [[(2,)]]
    assert pipeline._transformer_of(connection, connection.connection) is not first
