import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from portal.choices import AuditAction
from portal.models import AuditEvent, AuditSeal
from portal.models.audit import GENESIS_DIGEST
from portal.selectors import audit_chain as audit_selectors
from portal.selectors.audit_chain import audit_verify_chain
from portal.services.audit import audit_record, audit_seal_pending
from portal.tasks import seal_audit_events
from tests.portal.audit_helpers import audit_triggers_disabled

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The append-only triggers exist only on PostgreSQL; SQLite relies on the hash chain.",
)


def _events(count, **extra):
    return [
        audit_record(
            actor=None,
            action=AuditAction.VIEW,
            object_type="portal.patient",
            object_id=f"p{i}",
            patient_ids=[f"p{i}"],
            **extra,
        )
        for i in range(count)
    ]


def test_it_seals_pending_events_into_a_block_chained_to_genesis():
    events = _events(3)
    seal = audit_seal_pending()
    assert seal is not None
    assert (seal.first_event_id, seal.last_event_id) == (events[0].pk, events[-1].pk)
    assert seal.event_count == 3
    assert seal.previous_digest == GENESIS_DIGEST
    assert seal.skipped_ids == [] and seal.late_ids == []
    assert audit_seal_pending() is None  # nothing left to seal


def test_each_block_chains_to_the_previous_one_and_the_chain_verifies():
    _events(2)
    first = audit_seal_pending()
    _events(3)
    second = audit_seal_pending()
    assert second.previous_digest == first.digest
    assert second.first_event_id == first.last_event_id + 1
    result = audit_verify_chain()
    assert result.ok, result.problem
    assert (result.seals_checked, result.events_checked, result.unsealed_events) == (2, 5, 0)


def test_it_leaves_events_younger_than_the_grace_period_for_later():
    old = _events(2)
    now = timezone.now()
    with override_settings(AUDIT_SEAL_GRACE=datetime.timedelta(minutes=1)):
        assert audit_seal_pending(now=now) is None
        seal = audit_seal_pending(now=now + datetime.timedelta(minutes=2))
    assert seal.last_event_id == old[-1].pk


def test_it_seals_only_the_oldest_prefix_in_id_order():
    events = _events(3)
    # The middle event looks young (a slow clock on another app server): sealing stops before it
    # rather than skipping it, so no visible event is ever left behind inside a sealed range.
    cutoff = timezone.now()
    with audit_triggers_disabled():
        AuditEvent.objects.filter(pk=events[1].pk).update(
            occurred_at=cutoff + datetime.timedelta(seconds=30)
        )
    seal = audit_seal_pending(now=cutoff)
    assert (seal.first_event_id, seal.last_event_id, seal.event_count) == (
        events[0].pk,
        events[0].pk,
        1,
    )


def test_max_events_bounds_a_block_and_the_task_drains_the_backlog():
    _events(5)
    seal = audit_seal_pending(max_events=2)
    assert seal.event_count == 2
    # The task seals blocks until nothing is pending: the other three fit in one default block.
    assert seal_audit_events() == 1
    assert AuditSeal.objects.count() == 2
    result = audit_verify_chain()
    assert result.ok and result.unsealed_events == 0 and result.events_checked == 5


def test_a_rolled_back_event_leaves_a_hole_that_is_recorded_not_flagged():
    before = _events(1)[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        _events(1)
        raise RuntimeError
    after = _events(1)[0]
    seal = audit_seal_pending()
    assert seal.first_event_id == before.pk
    assert seal.skipped_ids == list(range(before.pk + 1, after.pk))
    assert audit_verify_chain().ok


def _simulate_late_commit():
    """An event whose id was allocated before sealing but committed after: insert it with an
    explicit id inside the previous block's hole and a time before that block was sealed."""
    seal = AuditSeal.objects.order_by("-last_event_id").first()
    hole = seal.skipped_ids[0]
    return AuditEvent.objects.create(
        pk=hole,
        occurred_at=seal.sealed_at - datetime.timedelta(seconds=1),
        action=AuditAction.VIEW,
        object_type="portal.patient",
    )


def _block_with_a_hole():
    """A sealed block whose range has one hole, as a rolled-back insert leaves it."""
    before = _events(1)[0]
    if connection.vendor == "postgresql":
        # Sequences are not transactional: the rolled-back id stays unused.
        with pytest.raises(RuntimeError), transaction.atomic():
            _events(1)
            raise RuntimeError
        _events(1)
    else:
        # SQLite rolls its AUTOINCREMENT counter back too, so skip an id explicitly.
        AuditEvent.objects.create(
            pk=before.pk + 2,
            occurred_at=timezone.now(),
            action=AuditAction.VIEW,
            object_type="portal.patient",
        )
    seal = audit_seal_pending()
    assert seal.skipped_ids == [before.pk + 1]
    return seal


def test_a_late_committed_event_is_reported_as_late_then_swept_into_the_next_block():
    _block_with_a_hole()
    late = _simulate_late_commit()
    result = audit_verify_chain()
    assert result.ok, result.problem
    assert result.late_event_ids == [late.pk]

    _events(1)
    seal = audit_seal_pending()
    assert seal.late_ids == [late.pk]
    result = audit_verify_chain()
    assert result.ok, result.problem
    assert result.late_event_ids == []


def test_an_event_forged_into_a_hole_after_sealing_is_an_extra_event():
    seal = _block_with_a_hole()
    hole = seal.skipped_ids[0]
    AuditEvent.objects.create(
        pk=hole,
        occurred_at=seal.sealed_at + datetime.timedelta(minutes=5),
        action=AuditAction.VIEW,
        object_type="portal.patient",
    )
    result = audit_verify_chain()
    assert not result.ok
    assert result.problem.kind == audit_selectors.EXTRA_EVENT
    assert (result.problem.seal_id, result.problem.event_id) == (seal.pk, hole)


def test_a_changed_event_is_the_first_broken_link():
    events = _events(4)
    seal = audit_seal_pending()
    with audit_triggers_disabled():
        AuditEvent.objects.filter(pk=events[2].pk).update(role="network_admin")
        AuditEvent.objects.filter(pk=events[3].pk).update(role="network_admin")
    result = audit_verify_chain()
    assert result.problem.kind == audit_selectors.CHANGED_EVENT
    assert (result.problem.seal_id, result.problem.event_id) == (seal.pk, events[2].pk)


def test_a_deleted_event_is_reported_missing():
    events = _events(3)
    seal = audit_seal_pending()
    with audit_triggers_disabled():
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    result = audit_verify_chain()
    assert result.problem.kind == audit_selectors.MISSING_EVENT
    assert (result.problem.seal_id, result.problem.event_id) == (seal.pk, events[1].pk)


def test_a_removed_seal_breaks_the_link_of_the_next_one():
    _events(1)
    first = audit_seal_pending()
    _events(1)
    audit_seal_pending()
    _events(1)
    third = audit_seal_pending()
    with audit_triggers_disabled():
        AuditSeal.objects.filter(pk=first.pk).delete()
    result = audit_verify_chain()
    assert result.problem.kind == audit_selectors.BROKEN_LINK
    # The first remaining seal now claims a predecessor that is gone.
    assert result.problem.seal_id != third.pk


def test_a_seal_whose_fields_were_edited_is_reported_altered():
    _events(2)
    seal = audit_seal_pending()
    with audit_triggers_disabled():
        AuditSeal.objects.filter(pk=seal.pk).update(event_count=1)
    result = audit_verify_chain()
    assert result.problem.kind == audit_selectors.ALTERED_SEAL
    assert result.problem.seal_id == seal.pk


def test_a_concurrent_sealer_cannot_fork_the_chain():
    _events(1)
    first = audit_seal_pending()
    _events(1)
    # A second sealer that read the same predecessor loses on the unique previous digest.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditSeal.objects.create(
            first_event_id=first.last_event_id + 1,
            last_event_id=first.last_event_id + 99,
            event_count=0,
            events_digest="0" * 64,
            previous_digest=GENESIS_DIGEST,
            digest="1" * 64,
            sealed_at=timezone.now(),
        )


def test_verify_audit_chain_prints_ok_with_counts():
    _events(2)
    audit_seal_pending()
    _events(1)
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "Audit chain OK: 1 seals, 2 sealed events, 1 not yet sealed" in out.getvalue()


def test_verify_audit_chain_fails_naming_the_first_broken_link():
    events = _events(2)
    seal = audit_seal_pending()
    with audit_triggers_disabled():
        AuditEvent.objects.filter(pk=events[0].pk).update(user_agent="forged")
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain", stdout=StringIO())
    message = str(excinfo.value)
    assert f"changed event at seal #{seal.pk}, event #{events[0].pk}" in message
    # The command exits non-zero: CommandError becomes exit status 1 when run from the shell.


def test_audit_rows_have_no_foreign_keys_so_nothing_cascades(patient, registrar_a):
    from portal.selectors.patients import patient_card

    patient_card(user=registrar_a, public_id=patient.public_id)
    assert not [f for f in AuditEvent._meta.get_fields() if f.is_relation]
    assert not [f for f in AuditSeal._meta.get_fields() if f.is_relation]
    patient.delete()
    registrar_a.delete()
    assert AuditEvent.objects.filter(object_id=str(patient.public_id)).count() == 1


@postgres_only
def test_postgres_refuses_update_of_audit_events():
    event = _events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(role="network_admin")
    assert AuditEvent.objects.get(pk=event.pk).role == ""


@postgres_only
def test_postgres_refuses_delete_of_audit_events():
    event = _events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@postgres_only
def test_postgres_refuses_update_and_delete_of_seals_but_sealing_works():
    _events(2)
    seal = audit_seal_pending()
    assert seal is not None  # sealing only inserts, so the triggers let it through
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditSeal.objects.filter(pk=seal.pk).update(event_count=5)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditSeal.objects.filter(pk=seal.pk).delete()
    assert audit_verify_chain().ok


@postgres_only
def test_postgres_refuses_truncate_of_audit_tables():
    _events(1)
    for table in ("portal_auditevent", "portal_auditseal"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            # Tests opt in to TRUNCATE for flushing (tests/conftest.py); opt out here.
            cursor.execute("SET LOCAL medfront.audit_truncate = ''")
            cursor.execute(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == 1


@postgres_only
def test_postgres_refuses_raw_sql_update_too():
    event = _events(1)[0]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE portal_auditevent SET role = 'x' WHERE id = %s", [event.pk])
