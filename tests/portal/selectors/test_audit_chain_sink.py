"""`verify_audit_chain` against the sink outside the database, and events left unsealed.

The tampering runs as the database superuser would: raw SQL with the append-only triggers
disabled (`tamper`). The seal key may be in the attacker's hands too: the sink still shows it.
"""

import logging
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from portal.audit_sink import SealHead, sink_read
from portal.choices import AuditAction
from portal.models import AuditSeal
from portal.selectors import audit_chain
from portal.selectors.audit_chain import audit_verify_chain
from portal.services.audit import audit_record, audit_seal_pending
from tests.portal.audit_helpers import reseal_in_place, tamper

pytestmark = pytest.mark.django_db


def _events(count):
    return [
        audit_record(
            actor=None, action=AuditAction.VIEW, object_type="portal.patient", object_id=f"p{i}"
        )
        for i in range(count)
    ]


@pytest.fixture
def sink(tmp_path, settings):
    """The configured sink file; seals made in the test append their heads to it."""
    path = tmp_path / "audit-seals.jsonl"
    settings.AUDIT_SEAL_SINK_FILE = str(path)
    return path


def verify(*paths, now=None):
    return audit_verify_chain(sink=sink_read(paths), now=now)


def kinds(result):
    return [(p.kind, p.seal_id) for p in result.problems]


def _seals(count):
    seals = []
    for _ in range(count):
        _events(2)
        seals.append(audit_seal_pending())
    return seals


def test_the_database_and_the_sink_agree(sink):
    _seals(3)
    result = verify(sink)
    assert result.ok, result.problems
    assert (result.sink_checked, result.sink_heads, result.seals_checked) == (True, 3, 3)


def test_an_event_rewritten_and_resealed_with_the_key_is_found_through_the_sink(sink):
    first, last = _seals(2)
    event_id = last.first_event_id
    tamper("UPDATE portal_auditevent SET role = 'director' WHERE id = %s", [event_id])
    reseal_in_place(last, key=settings.AUDIT_SEAL_KEY)
    # Whoever holds the key can make the database's chain consistent again...
    assert audit_verify_chain().ok
    # ...but not the head the sink recorded when the range was first sealed.
    assert kinds(verify(sink)) == [(audit_chain.DIFFERS_FROM_SINK, last.pk)]


def test_a_range_deleted_and_resealed_through_the_application_is_found(sink):
    (first,) = _seals(1)
    tamper("UPDATE portal_auditevent SET role = 'director' WHERE id = %s", [first.first_event_id])
    tamper("DELETE FROM portal_auditseal WHERE id = %s", [first.pk])
    # The application's own sealer re-seals the rewritten range under a new seal id.
    again = audit_seal_pending()
    assert (again.first_event_id, again.last_event_id) == (
        first.first_event_id,
        first.last_event_id,
    )
    assert audit_verify_chain().ok
    assert kinds(verify(sink)) == [(audit_chain.GONE_FROM_DATABASE, first.pk)]


def test_a_deleted_last_seal_row_is_found(sink):
    *_, last = _seals(3)
    tamper("DELETE FROM portal_auditseal WHERE id = %s", [last.pk])
    # The chain in the database cannot tell: its events merely look unsealed.
    assert audit_verify_chain().ok
    result = verify(sink)
    assert kinds(result) == [(audit_chain.GONE_FROM_DATABASE, last.pk)]
    assert f"events {last.first_event_id}..{last.last_event_id}" in result.problem.detail


def test_a_deleted_middle_seal_row_breaks_the_chain_and_is_found_in_the_sink(sink):
    _first, middle, last = _seals(3)
    tamper("DELETE FROM portal_auditseal WHERE id = %s", [middle.pk])
    assert kinds(verify(sink)) == [
        (audit_chain.BROKEN_LINK, last.pk),
        (audit_chain.GONE_FROM_DATABASE, middle.pk),
    ]


def test_a_seal_that_never_reached_the_sink_is_found(sink):
    _seals(1)
    _events(2)
    # Sealed by someone holding the key but not writing the sink (or a sealer that died
    # between its commit and the sink).
    with override_settings(AUDIT_SEAL_SINK_FILE=""):
        forged = audit_seal_pending()
    assert kinds(verify(sink)) == [(audit_chain.MISSING_FROM_SINK, forged.pk)]


def test_seals_made_before_the_sink_was_configured_are_counted_not_flagged(sink):
    with override_settings(AUDIT_SEAL_SINK_FILE=""):
        _seals(2)
    _seals(1)
    result = verify(sink)
    assert result.ok, result.problems
    assert (result.seals_before_sink, result.sink_heads) == (2, 1)


def test_a_missing_sink_file_with_keyed_seals_is_a_finding(tmp_path):
    (seal,) = _seals(1)
    result = verify(tmp_path / "gone.jsonl")
    assert kinds(result) == [
        (audit_chain.UNREADABLE_SINK, None),
        (audit_chain.MISSING_FROM_SINK, seal.pk),
    ]
    assert "FileNotFoundError" in result.problem.detail


def test_unreadable_lines_and_two_heads_for_one_seal_are_findings(sink):
    (seal,) = _seals(1)
    head = SealHead.of(seal)
    with sink.open("a") as f:
        f.write('{"seal": 1, "first": "x"}\n')
        f.write(SealHead(**{**head.__dict__, "digest": "0" * 64}).to_json() + "\n")
    result = verify(sink)
    assert kinds(result) == [
        (audit_chain.UNREADABLE_SINK, None),
        (audit_chain.DIFFERS_FROM_SINK, seal.pk),
    ]
    assert result.problem.detail == f"{sink}:2"


def test_an_exported_log_of_the_seal_logger_serves_as_the_sink(tmp_path):
    log = tmp_path / "medfront.log"
    handler = logging.FileHandler(log)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    seal_logger = logging.getLogger("medfront.audit.seals")
    seal_logger.addHandler(handler)
    try:
        logging.getLogger("django.request").warning("an unrelated record")
        _seals(2)
    finally:
        seal_logger.removeHandler(handler)
        handler.close()
    with log.open("a") as f:
        f.write("2026-01-01 00:00:00 INFO celery.worker another unrelated line {not json}\n")
    result = verify(log)
    assert result.ok, result.problems
    assert result.sink_heads == 2


def test_an_event_left_unsealed_longer_than_the_beat_allows_is_a_finding():
    _seals(1)
    now = timezone.now()
    waiting = _events(2)
    allowed = settings.AUDIT_SEAL_GRACE + 2 * settings.AUDIT_SEAL_INTERVAL
    result = audit_verify_chain(now=now + allowed)
    assert result.ok and result.unsealed_events == 2
    result = audit_verify_chain(now=now + allowed + settings.AUDIT_SEAL_INTERVAL)
    assert [(p.kind, p.event_id) for p in result.problems] == [
        (audit_chain.UNSEALED_TOO_LONG, waiting[0].pk)
    ]
    assert result.problem.detail.startswith("2 events older than 120 s are not sealed")


def test_verify_audit_chain_lists_every_finding_and_exits_non_zero(sink):
    *_, last = _seals(2)
    (stale,) = _events(1)
    tamper("DELETE FROM portal_auditseal WHERE id = %s", [last.pk])
    tamper(
        "UPDATE portal_auditevent SET occurred_at = %s WHERE id = %s",
        [timezone.now() - settings.AUDIT_SEAL_INTERVAL * 10, stale.pk],
    )
    err = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain", stdout=StringIO(), stderr=err)
    assert str(excinfo.value).startswith("Audit chain BROKEN: 2 finding(s), the first: ")
    listed = err.getvalue()
    assert f"- sink seal gone from the database at seal #{last.pk}: " in listed
    # The events of the deleted seal are young: only the one held back is too old.
    assert f"- unsealed too long at event #{stale.pk}: 1 events older than 120 s" in listed


def test_verify_audit_chain_reports_the_sink_it_compared(sink, tmp_path):
    _seals(2)
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "2 seal heads in 1 sink file(s)" in out.getvalue()
    # --sink names other copies (several worker hosts' files together).
    other = tmp_path / "other-host.jsonl"
    other.write_text("")
    out = StringIO()
    call_command("verify_audit_chain", "--sink", str(sink), "--sink", str(other), stdout=out)
    assert "2 seal heads in 2 sink file(s)" in out.getvalue()
    assert AuditSeal.objects.count() == 2


def test_seal_audit_events_seals_what_is_pending_for_machines_without_a_beat(sink):
    _events(3)
    out = StringIO()
    call_command("seal_audit_events", stdout=out)
    assert out.getvalue().strip() == "Sealed 1 block(s)."
    result = verify(sink)
    assert result.ok and (result.events_checked, result.unsealed_events) == (3, 0)
