"""Running an import job in chunks: each chunk is one transaction that writes its rows and
advances the job's cursor, so a worker killed mid-file leaves whole rows behind and the next
run (Celery redelivers: acks_late) continues at the cursor. A dry run walks the same path and
writes nothing but its report.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.choices import ImportOutcome, ImportStatus
from crm.errors import ImportFileInvalid, ImportNotAllowed
from crm.models import DuplicateCandidate, ImportIssue, ImportJob, LegacyVisit
from crm.services.imports.jobs import import_job_fail, job_table
from crm.services.imports.matching import Match, NewRef, PatientIndex, Ref, row_indexes
from crm.services.imports.reading import Cell, Table
from crm.services.imports.rows import ParsedRow, RowError, parse_row
from portal.choices import AuditAction
from portal.models import Patient
from portal.services.audit import audit_event, audit_record_many
from portal.services.patients import OBJECT_TYPE as PATIENT_OBJECT

logger = logging.getLogger(__name__)

HEADER_ROWS = 1


@dataclass
class _Chunk:
    """What one chunk will write."""

    new: list[tuple[NewRef, list[str]]] = field(default_factory=list)
    visits: list[tuple[Ref, ParsedRow]] = field(default_factory=list)
    flags: list[tuple[Ref, Ref, int, str]] = field(default_factory=list)
    issues: list[tuple[int, str, str, str, Ref | None]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def import_job_advance(*, job_id: int, max_chunks: int | None = None) -> ImportJob | None:
    """Process the job's remaining rows chunk by chunk (at most `max_chunks` of them).

    Invariants: a row is written whole or not at all (each chunk is atomic with its cursor);
    a cancelled job stops at the next chunk; the file is emptied when the run ends.
    """
    job = ImportJob.objects.select_related("clinic", "created_by").filter(pk=job_id).first()
    if job is None or job.status not in (ImportStatus.CHECKING, ImportStatus.RUNNING):
        return job
    dry = job.status == ImportStatus.CHECKING
    if dry and job.cursor:
        # A dry run's would-be profiles live in memory only: an interrupted one starts over.
        with transaction.atomic():
            job.issues.filter(dry_run=True).delete()
            job.cursor, job.dry_run_counts = 0, {}
            job.save(update_fields=["cursor", "dry_run_counts"])
    try:
        table = job_table(job)
    except (ImportFileInvalid, ImportNotAllowed):
        import_job_fail(job_id=job.pk)
        return ImportJob.objects.get(pk=job.pk)
    tz = zoneinfo.ZoneInfo(job.clinic.timezone)
    index = PatientIndex.load()
    chunk_rows = settings.CRM_IMPORT_CHUNK_ROWS
    done_chunks = 0
    while max_chunks is None or done_chunks < max_chunks:
        with transaction.atomic():
            locked = ImportJob.objects.select_for_update().get(pk=job.pk)
            if locked.status != job.status:
                return locked
            start = locked.cursor
            rows = table.rows[start : start + chunk_rows]
            chunk = _plan(rows, start, locked, tz, index)
            if not dry:
                _write(chunk, locked)
            _save_issues(chunk, locked, dry=dry)
            _finish_chunk(locked, chunk, len(rows), dry=dry, table=table)
        done_chunks += 1
        logger.info("import %s: %d of %d rows", locked.public_id, locked.cursor, locked.total_rows)
        if locked.status != job.status:
            return locked
    return ImportJob.objects.get(pk=job.pk)


def _plan(
    rows: list[list[Cell]], start: int, job: ImportJob, tz: zoneinfo.ZoneInfo, index: PatientIndex
) -> _Chunk:
    chunk = _Chunk()
    parsed = [
        parse_row(start + offset + 1 + HEADER_ROWS, cells, job.mapping, tz)
        for offset, cells in enumerate(rows)
    ]
    wanted = {
        value
        for row in parsed
        if isinstance(row, ParsedRow)
        for key, value in row_indexes(row.fields).items()
        if value and key in ("phone_bidx", "name_birth_bidx", "document_bidx")
    }
    known = index.prefetch(wanted)
    for row in parsed:
        if isinstance(row, RowError):
            chunk.issues.append((row.number, ImportOutcome.ERROR, row.field, row.code, None))
            chunk.counts["errors"] += 1
            continue
        match, indexes = index.match(row.fields, known)
        target = _apply(row, match, indexes, job, index, chunk)
        if row.visit is not None:
            chunk.visits.append((target, row))
    return chunk


def _apply(
    row: ParsedRow,
    match: Match,
    indexes: dict[str, str],
    job: ImportJob,
    index: PatientIndex,
    chunk: _Chunk,
) -> Ref:
    if match.link is not None:
        chunk.counts["linked"] += 1
        chunk.issues.append((row.number, ImportOutcome.LINKED, "", "exact", match.link))
        return match.link
    patient = Patient(**row.fields, home_clinic=job.clinic, created_by=job.created_by)
    ref = NewRef(patient)
    index.add(ref, row.fields, indexes)
    chunk.new.append((ref, [name for name, value in row.fields.items() if value not in ("", None)]))
    chunk.counts["created"] += 1
    if match.flags:
        chunk.counts["flagged"] += 1
        best = max(match.flags, key=lambda flag: flag[1])
        chunk.issues.append((row.number, ImportOutcome.FLAGGED, "", best[2], ref))
        for other, score, reason in match.flags:
            chunk.flags.append((ref, other, score, reason))
    return ref


def _pk(ref: Ref) -> int | None:
    if isinstance(ref, NewRef):
        return ref.patient.pk if ref.patient is not None else None
    return ref


def _write(chunk: _Chunk, job: ImportJob) -> None:
    actor = job.created_by
    patients = []
    for ref, _fields in chunk.new:
        if ref.patient is None:  # a dry run never writes
            continue
        ref.patient.refresh_blind_indexes()
        patients.append(ref.patient)
    Patient.objects.bulk_create(patients, batch_size=500)
    events = [
        audit_event(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=PATIENT_OBJECT,
            object_id=ref.patient.public_id,
            patient_ids=[ref.patient.public_id],
            changed_fields=names,
        )
        for ref, names in chunk.new
        if ref.patient is not None
    ]
    visits = _new_visits(chunk, job)
    LegacyVisit.objects.bulk_create(visits, batch_size=500)
    chunk.counts["visits"] += len(visits)
    chunk.counts["visits_skipped"] += len(chunk.visits) - len(visits)
    if visits:
        # One event for the chunk's visit history, naming every profile it was added to.
        events.append(
            audit_event(
                actor=actor,
                action=AuditAction.CREATE,
                object_type="crm.legacyvisit",
                object_id=job.public_id,
                patient_ids={str(v.patient.public_id) for v in visits},
            )
        )
    audit_record_many(events)
    pairs = {}
    for a_ref, b_ref, score, reason in chunk.flags:
        a, b = _pk(a_ref), _pk(b_ref)
        if a is None or b is None or a == b:
            continue
        low, high = min(a, b), max(a, b)
        pairs[(low, high)] = DuplicateCandidate(
            patient_a_id=low, patient_b_id=high, score=score, reason=reason, job=job
        )
    DuplicateCandidate.objects.bulk_create(pairs.values(), ignore_conflicts=True)


def _new_visits(chunk: _Chunk, job: ImportJob) -> list[LegacyVisit]:
    """The chunk's visits less those already on the profile (a file imported twice)."""
    existing_pks = {ref for ref, _row in chunk.visits if isinstance(ref, int)}
    seen = set(
        LegacyVisit.objects.filter(patient_id__in=existing_pks).values_list(
            "patient_id", "visited_at"
        )
    )
    patients = {
        p.pk: p for p in Patient.objects.filter(pk__in=existing_pks).only("pk", "public_id")
    }
    visits = []
    for ref, row in chunk.visits:
        if row.visit is None:
            continue
        pk = _pk(ref)
        if pk is None or (pk, row.visit.visited_at) in seen:
            continue
        seen.add((pk, row.visit.visited_at))
        patient = ref.patient if isinstance(ref, NewRef) else patients[pk]
        visits.append(
            LegacyVisit(
                patient=patient,
                clinic=job.clinic,
                job=job,
                visited_at=row.visit.visited_at,
                doctor_name=row.visit.doctor_name,
                service_name=row.visit.service_name,
            )
        )
    return visits


def _save_issues(chunk: _Chunk, job: ImportJob, *, dry: bool) -> None:
    ImportIssue.objects.bulk_create(
        [
            ImportIssue(
                job=job,
                dry_run=dry,
                row_number=number,
                outcome=outcome,
                field=field_name,
                code=code,
                patient_id=None if dry or ref is None else _pk(ref),
            )
            for number, outcome, field_name, code, ref in chunk.issues
        ],
        batch_size=1000,
    )


def _finish_chunk(job: ImportJob, chunk: _Chunk, size: int, *, dry: bool, table: Table) -> None:
    attribute = "dry_run_counts" if dry else "counts"
    counts = Counter(getattr(job, attribute))
    counts.update(chunk.counts)
    if dry:
        counts["visits"] += len(chunk.visits)
    setattr(job, attribute, dict(counts))
    job.cursor = min(job.cursor + size, job.total_rows)
    job.heartbeat_at = timezone.now()
    fields = [attribute, "cursor", "heartbeat_at"]
    if job.cursor >= len(table.rows):
        if dry:
            job.status = ImportStatus.CHECKED
        else:
            # The run is over: the file (PII) goes.
            job.status, job.payload, job.finished_at = ImportStatus.DONE, b"", timezone.now()
            fields += ["payload", "finished_at"]
        fields.append("status")
    job.save(update_fields=fields)
