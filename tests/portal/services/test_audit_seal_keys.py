"""Keyed seals: HMACs under AUDIT_SEAL_KEY, key rotation, the legacy (unkeyed) segment, the
sink written on every seal, and a sealer that costs next to nothing when idle."""

import datetime
import json
import logging

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from portal import audit_keys
from portal.audit_sink import LOG_MARKER
from portal.choices import AuditAction
from portal.models import AuditSeal
from portal.selectors import audit_chain
from portal.selectors.audit_chain import audit_verify_chain
from portal.services.audit import audit_record, audit_seal_pending
from portal.tasks import seal_audit_events
from tests.portal.audit_helpers import legacy_seal, reseal_in_place, tamper

pytestmark = pytest.mark.django_db

NEW_KEY = bytes.fromhex("c4" * 32)


def _events(count):
    return [
        audit_record(
            actor=None, action=AuditAction.VIEW, object_type="portal.patient", object_id=f"p{i}"
        )
        for i in range(count)
    ]


@pytest.fixture
def seal_log(caplog):
    """Records of the `medfront.audit.seals` logger, which does not propagate to the root."""
    seal_logger = logging.getLogger("medfront.audit.seals")
    seal_logger.addHandler(caplog.handler)
    yield caplog
    seal_logger.removeHandler(caplog.handler)


def test_a_seal_is_an_hmac_under_the_configured_key_named_by_its_id():
    _events(2)
    seal = audit_seal_pending()
    assert seal.key_id == audit_keys.seal_key_id(settings.AUDIT_SEAL_KEY)
    assert len(seal.key_id) == 16
    assert seal.digest == seal.expected_digest(settings.AUDIT_SEAL_KEY)
    assert seal.digest != seal.expected_digest(NEW_KEY)
    # The key is nowhere in the seal row; its id tells nothing about it.
    row = repr(AuditSeal.objects.filter(pk=seal.pk).values().get())
    assert settings.AUDIT_SEAL_KEY.hex() not in row
    assert seal.key_id not in settings.AUDIT_SEAL_KEY.hex()
    assert audit_verify_chain().ok


@pytest.mark.parametrize("forger_key", [NEW_KEY, None], ids=["guessed key", "no key"])
def test_a_range_rewritten_and_resealed_without_the_key_is_found(forger_key):
    events = _events(3)
    seal = audit_seal_pending()
    tamper("UPDATE portal_auditevent SET role = 'director' WHERE id = %s", [events[1].pk])
    reseal_in_place(seal, key=forger_key)
    problem = audit_verify_chain().problem
    # With another key the digest does not match; without one the seal is not a keyed seal.
    expected = audit_chain.ALTERED_SEAL if forger_key else audit_chain.UNKEYED_SEAL
    assert (problem.kind, problem.seal_id) == (expected, seal.pk)


def test_after_a_key_rotation_the_chain_runs_on_and_old_seals_need_the_retired_key():
    old_key = settings.AUDIT_SEAL_KEY
    _events(2)
    first = audit_seal_pending()
    with override_settings(AUDIT_SEAL_KEY=NEW_KEY, AUDIT_SEAL_RETIRED_KEYS=[old_key]):
        _events(2)
        second = audit_seal_pending()
        assert second.key_id == audit_keys.seal_key_id(NEW_KEY) != first.key_id
        assert second.previous_digest == first.digest
        result = audit_verify_chain()
        assert result.ok, result.problems
        assert (result.seals_checked, result.events_checked) == (2, 4)
    with override_settings(AUDIT_SEAL_KEY=NEW_KEY, AUDIT_SEAL_RETIRED_KEYS=[]):
        problem = audit_verify_chain().problem
        assert (problem.kind, problem.seal_id) == (audit_chain.UNKNOWN_KEY, first.pk)
        assert first.key_id in problem.detail


def _legacy_then_keyed():
    """Two seals from before keyed seals, then a keyed one chained to them."""
    first = legacy_seal(_events(2))
    second = legacy_seal(_events(1), previous=first)
    _events(1)
    keyed = audit_seal_pending()
    assert keyed.previous_digest == second.digest
    return first, second, keyed


def test_unkeyed_seals_verify_as_a_legacy_segment_ending_at_the_recorded_head():
    first, second, keyed = _legacy_then_keyed()
    with override_settings(AUDIT_SEAL_LEGACY_HEAD=second.digest):
        result = audit_verify_chain()
    assert result.ok, result.problems
    assert (result.legacy_seals, result.seals_checked, result.events_checked) == (2, 3, 4)


def test_without_a_recorded_legacy_head_an_unkeyed_seal_is_a_finding():
    first, second, keyed = _legacy_then_keyed()
    problem = audit_verify_chain().problem
    assert (problem.kind, problem.seal_id) == (audit_chain.UNKEYED_SEAL, first.pk)
    # The finding names the head the first keyed seal vouches for.
    assert f"set it to {second.digest} (the digest keyed seal #{keyed.pk} follows)" in (
        problem.detail
    )


def test_an_unkeyed_seal_past_the_recorded_head_is_a_finding():
    first, second, _keyed = _legacy_then_keyed()
    with override_settings(AUDIT_SEAL_LEGACY_HEAD=first.digest):
        problem = audit_verify_chain().problem
    assert (problem.kind, problem.seal_id) == (audit_chain.UNKEYED_SEAL, second.pk)


def test_a_legacy_segment_rewritten_and_resealed_is_found():
    first, second, keyed = _legacy_then_keyed()
    head = second.digest
    # Unkeyed seals need no key to recompute: rewrite the last legacy block and re-seal it.
    tamper("UPDATE portal_auditevent SET role = 'director' WHERE id = %s", [second.last_event_id])
    reseal_in_place(second, key=None)
    with override_settings(AUDIT_SEAL_LEGACY_HEAD=head):
        problem = audit_verify_chain().problem
    # The recorded head no longer ends the segment (and the keyed seal's link is broken).
    assert (problem.kind, problem.seal_id) == (audit_chain.UNKEYED_SEAL, keyed.pk)


def test_a_recorded_legacy_head_that_names_no_seal_is_a_finding():
    _events(1)
    audit_seal_pending()
    with override_settings(AUDIT_SEAL_LEGACY_HEAD="f" * 64):
        problem = audit_verify_chain().problem
    assert problem.kind == audit_chain.UNKEYED_SEAL


def test_an_unkeyed_seal_appended_after_keyed_ones_is_a_finding():
    _legacy_first, legacy_last, keyed = _legacy_then_keyed()
    forged = legacy_seal(_events(1), previous=keyed)
    with override_settings(AUDIT_SEAL_LEGACY_HEAD=legacy_last.digest):
        problem = audit_verify_chain().problem
    assert (problem.kind, problem.seal_id) == (audit_chain.UNKEYED_SEAL, forged.pk)


def test_each_seal_head_goes_to_the_log_and_is_appended_to_the_sink_file(tmp_path, seal_log):
    sink = tmp_path / "audit-seals.jsonl"
    sink.write_text("a line written before\n")
    with override_settings(AUDIT_SEAL_SINK_FILE=str(sink)):
        _events(2)
        first = audit_seal_pending()
        _events(1)
        second = audit_seal_pending()
    lines = sink.read_text().splitlines()
    assert lines[0] == "a line written before"
    heads = [json.loads(line) for line in lines[1:]]
    assert [(h["seal"], h["first"], h["last"], h["digest"]) for h in heads] == [
        (s.pk, s.first_event_id, s.last_event_id, s.digest) for s in (first, second)
    ]
    assert heads[1] == {
        "seal": second.pk,
        "first": second.first_event_id,
        "last": second.last_event_id,
        "count": 1,
        "key": second.key_id,
        "digest": second.digest,
        "previous": first.digest,
        "sealed_at": second.sealed_at.isoformat(),
    }
    logged = [r.getMessage() for r in seal_log.records if r.name == "medfront.audit.seals"]
    assert logged == [LOG_MARKER + line for line in lines[1:]]


def test_without_a_sink_file_the_head_still_goes_to_the_log(seal_log):
    _events(1)
    seal = audit_seal_pending()
    (record,) = [r for r in seal_log.records if r.name == "medfront.audit.seals"]
    assert record.levelno == logging.INFO
    assert json.loads(record.getMessage().removeprefix(LOG_MARKER))["digest"] == seal.digest


def test_an_unwritable_sink_file_is_logged_and_the_seal_stands(tmp_path, caplog):
    with override_settings(AUDIT_SEAL_SINK_FILE=str(tmp_path / "no-such-dir" / "seals.jsonl")):
        _events(1)
        seal = audit_seal_pending()
    assert AuditSeal.objects.filter(pk=seal.pk).exists()
    assert f"audit seal #{seal.pk}: sink file not written" in caplog.text


def test_it_refuses_to_seal_inside_a_callers_transaction():
    # A head must never name a seal that the caller's transaction could still roll back.
    _events(1)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        audit_seal_pending()


def test_with_nothing_to_seal_the_beat_task_reads_two_rows(django_assert_num_queries):
    _events(2)
    audit_seal_pending()
    with django_assert_num_queries(2):
        assert seal_audit_events() == 0
    _events(3)
    # Events still inside the grace period: the same two reads, no event loaded.
    with (
        override_settings(AUDIT_SEAL_GRACE=datetime.timedelta(minutes=1)),
        django_assert_num_queries(2),
    ):
        assert seal_audit_events() == 0


def test_the_beat_seals_every_audit_seal_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-seal"]
    assert entry["task"] == "portal.tasks.seal_audit_events"
    assert entry["schedule"] == settings.AUDIT_SEAL_INTERVAL.total_seconds() == 60
