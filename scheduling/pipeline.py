"""A batch of statements in one round trip on libpq's pipeline mode, without cursors.

psycopg's own pipeline mode (a cursor per statement) writes to the socket after every statement
and processes each answer through its cursor machinery: about 50 µs of the client's CPU per
statement on a 2-core machine, several wake-ups of the server per batch, and most of a
booking's database cost on the Django side. Here the whole batch is queued in libpq's buffer,
sent with one write, and every answer is read back at the sync: about 15 µs a statement
(`bench/`, README "Benchmarks").

What psycopg does for a cursor and is kept here: parameters are adapted by the connection's
adapters (a `Transformer`, the same types and formats), a transaction is begun first when the
connection is not in autocommit and none is open, statements a connection repeats are prepared
once it has run them `prepare_threshold` times (never when the threshold is None, as behind a
pooler in transaction mode), at most `prepared_max` of them, least recently used dropped
first; the first failing statement raises psycopg's error for it and the rest of the batch
does not run. Only `%s` placeholders (and `%%`) are understood: the hot paths' statements are
written that way.
"""

from __future__ import annotations

import functools
import re
import select
from typing import NamedTuple

from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

try:  # psycopg's statement cache (see `_cache_of`)
    from psycopg._preparing import Prepare
except ImportError:  # pragma: no cover - then nothing is prepared here
    Prepare = None

ExecStatus = pq.ExecStatus
_PLACEHOLDER = re.compile(r"%(.)", re.DOTALL)


@functools.lru_cache(maxsize=1024)
def server_query(sql: str) -> tuple[bytes, int]:
    """`sql` with `%s` placeholders as PostgreSQL's `$1, $2, ...`, and their count."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        if match.group(1) == "%":
            return "%"
        if match.group(1) != "s":
            raise pg_errors.ProgrammingError(f"only %s placeholders are supported: {sql[:80]!r}")
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(replace, sql).encode(), count


class _Query(NamedTuple):
    """What psycopg's statement cache keys a query by (its `PostgresQuery`'s two fields)."""

    query: bytes
    types: tuple


def _cache_of(conn):
    """psycopg's cache of the connection's prepared statements, shared with its cursors: they
    clear it (and the server's statements) after a ROLLBACK, DROP or ALTER, so keeping a cache
    of our own would name statements that are gone. None, and nothing prepared here, if this
    psycopg keeps it some other way (tests/scheduling/test_pipeline.py would say so)."""
    cache = getattr(conn, "_prepared", None) if Prepare is not None else None
    needed = ("get", "maybe_add_to_cache", "validate", "_to_flush")
    return cache if all(hasattr(cache, name) for name in needed) else None


def _transformer_of(wrapper, conn) -> Transformer:
    """One `Transformer` per server connection, as a cursor keeps one for all its statements:
    it remembers the dumper of each parameter type and the loader of each column type it has
    met, which a new one would look up again for every batch."""
    kept = getattr(wrapper, "_medfront_transformer", None)
    if kept is None or kept[0] is not conn:
        kept = (conn, Transformer(conn))
        wrapper._medfront_transformer = kept
    return kept[1]


def run(wrapper, statements) -> list[list[tuple]]:
    """The rows of each of `statements` (pairs of SQL text and parameters), in one round trip
    on the Django connection `wrapper`'s open psycopg connection. Errors are psycopg's; the
    caller translates them (`wrap_database_errors`)."""
    conn = wrapper.connection
    pgconn = conn.pgconn
    tx = _transformer_of(wrapper, conn)
    # Everything that can refuse a statement (placeholders, parameter types) before sending.
    adapted = []
    for sql, params in statements:
        query, count = server_query(sql)
        if count != len(params):
            raise pg_errors.ProgrammingError(
                f"the query has {count} placeholders but {len(params)} parameters were passed"
            )
        if count:
            values = tx.dump_sequence(params, [PyFormat.AUTO] * count)
            adapted.append((query, values, tx.types, tx.formats))
        else:
            adapted.append((query, None, None, None))
    cache = _cache_of(conn)
    expected: list[tuple] = []  # what each answer of the batch is, in order
    pgconn.enter_pipeline_mode()
    try:
        while cache is not None and cache._to_flush:  # psycopg's pending deallocations
            name = cache._to_flush.popleft()
            pgconn.send_query_params(b"DEALLOCATE " + (name or b"ALL"), None)
            expected.append(("command", None))
        if not conn.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
            # As psycopg's cursors begin one: with the connection's isolation level, if set.
            begin = getattr(conn, "_get_tx_start_command", lambda: b"BEGIN")()
            pgconn.send_query_params(begin, None)
            expected.append(("command", None))
        for number, (query, values, types, formats) in enumerate(adapted):
            key = prepare = name = None
            if cache is not None:
                statement = _Query(query, types or ())
                prepare, name = cache.get(statement)
                key = cache.maybe_add_to_cache(statement, prepare, name)
            if prepare is Prepare.SHOULD:
                pgconn.send_prepare(name, query, param_types=types)
                expected.append(("prepare", None))
            if prepare is None or prepare is Prepare.NO:
                pgconn.send_query_params(query, values, param_types=types, param_formats=formats)
            else:
                pgconn.send_query_prepared(name, values, param_formats=formats)
            expected.append(("rows", (number, key, prepare, name)))
        pgconn.pipeline_sync()
        answers = _send_and_collect(pgconn)
        pgconn.exit_pipeline_mode()
    except BaseException:
        # Cut off in the middle of the protocol (a broken socket, an interrupt): the
        # connection cannot be reused; Django sees it closed and opens a new one.
        pgconn.finish()
        raise
    return _rows_of(conn, tx, cache, expected, answers, len(statements))


def _send_and_collect(pgconn) -> list[list]:
    """Send the queued batch and read every answer up to the sync: one list of results per
    statement, in order."""
    fd = pgconn.socket
    while pgconn.flush():  # the socket took part of the batch; the rest when it can
        if _wait(fd, select.POLLIN | select.POLLOUT) & select.POLLIN:
            pgconn.consume_input()
    answers, current = [], []
    while True:
        while pgconn.is_busy():
            _wait(fd, select.POLLIN)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one statement's results
            answers.append(current)
            current = []
        elif result.status == ExecStatus.PIPELINE_SYNC:
            return answers
        else:
            current.append(result)


def _wait(fd: int, events: int) -> int:
    poller = select.poll()
    poller.register(fd, events)
    ready = 0
    while not ready:
        for _fd, happened in poller.poll():
            ready |= happened
    return ready


def _rows_of(conn, tx, cache, expected, answers, statements: int) -> list[list[tuple]]:
    rows: list[list[tuple]] = [[] for _ in range(statements)]
    failure = None
    for (kind, detail), results in zip(expected, answers, strict=True):
        if kind == "rows":
            number, key, prepare, name = detail
            if key is not None:
                # psycopg's bookkeeping, as for a cursor's statement: a failed one is not kept.
                cache.validate(key, prepare, name, results)
        for result in results:
            if result.status == ExecStatus.TUPLES_OK and kind == "rows":
                tx.set_pgresult(result)
                rows[number] = tx.load_rows(0, result.ntuples, tuple)
            elif result.status == ExecStatus.FATAL_ERROR and failure is None:
                failure = pg_errors.error_from_result(result, encoding=conn.info.encoding)
    if failure is not None:
        raise failure
    return rows
