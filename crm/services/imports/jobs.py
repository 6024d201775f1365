"""The import job's steps before and around the run: upload, mapping, start, cancel."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import ImportStatus
from crm.errors import ImportFileInvalid, ImportNotAllowed
from crm.models import ImportJob
from crm.services.imports.mapping import guess_mapping, mapping_clean
from crm.services.imports.reading import Table, detect_format, read_table
from portal.crypto import get_fernet
from portal.models import Clinic, User

PREVIEW_ROWS = 10


def job_table(job: ImportJob) -> Table:
    """The job's file, decrypted and read (in memory only)."""
    if not job.payload:
        raise ImportNotAllowed(_("The file of this import is no longer kept: upload it again."))
    return read_table(get_fernet().decrypt(bytes(job.payload)), job.file_format)


@transaction.atomic
def import_job_create(*, actor: User, clinic: Clinic, file_name: str, data: bytes) -> ImportJob:
    """Read the upload once to check it is a table, then keep it encrypted for the job."""
    file_format = detect_format(file_name)
    table = read_table(data, file_format)
    return ImportJob.objects.create(
        clinic=clinic,
        created_by=actor,
        file_format=file_format,
        file_size=len(data),
        payload=get_fernet().encrypt(data),
        headers=table.headers,
        mapping=guess_mapping(table.headers),
        total_rows=len(table.rows),
    )


@transaction.atomic
def import_job_set_mapping(*, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    """Store an edited mapping; a previous dry run no longer describes it."""
    _require(job, ImportStatus.UPLOADED, ImportStatus.CHECKED)
    job.mapping = mapping_clean(mapping, columns=len(job.headers))
    job.status = ImportStatus.UPLOADED
    job.dry_run_counts = {}
    job.issues.filter(dry_run=True).delete()
    job.save(update_fields=["mapping", "status", "dry_run_counts"])
    return job


@transaction.atomic
def import_job_start(*, job: ImportJob, dry_run: bool) -> ImportJob:
    """Queue the dry run or the run; the worker starts after this transaction commits."""
    from crm import tasks

    _require(job, ImportStatus.UPLOADED, ImportStatus.CHECKED)
    mapping_clean(job.mapping, columns=len(job.headers))
    if dry_run:
        job.issues.filter(dry_run=True).delete()
        job.dry_run_counts = {}
    job.status = ImportStatus.CHECKING if dry_run else ImportStatus.RUNNING
    job.cursor = 0
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "cursor", "dry_run_counts", "heartbeat_at"])
    transaction.on_commit(lambda: tasks.run_import.delay(job.pk))
    return job


@transaction.atomic
def import_job_resume(*, job: ImportJob) -> ImportJob:
    """Queue a stalled job again (a worker lost without redelivery); it goes on at the cursor."""
    from crm import tasks

    _require(job, ImportStatus.CHECKING, ImportStatus.RUNNING)
    transaction.on_commit(lambda: tasks.run_import.delay(job.pk))
    return job


@transaction.atomic
def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Stop the job and drop its file; rows already imported stay (each chunk is whole)."""
    if job.status in (ImportStatus.DONE, ImportStatus.CANCELLED):
        raise ImportNotAllowed
    job.status, job.payload, job.finished_at = ImportStatus.CANCELLED, b"", timezone.now()
    job.save(update_fields=["status", "payload", "finished_at"])
    return job


def import_jobs_purge_stale(*, now: datetime.datetime | None = None) -> int:
    """Cancel jobs whose file waited longer than CRM_IMPORT_KEEP_HOURS without finishing, and
    drop their files (an abandoned upload must not keep patients' data). Returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.CRM_IMPORT_KEEP_HOURS)
    stale = ImportJob.objects.filter(
        status__in=[ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED],
        created_at__lt=cutoff,
    ).exclude(payload=b"")
    return stale.update(status=ImportStatus.CANCELLED, payload=b"", finished_at=now)


def import_job_fail(*, job_id: int) -> None:
    """The file can no longer be read (deleted, or keys rotated away): the job fails."""
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.FAILED, payload=b"", finished_at=timezone.now()
    )


def import_job_preview(*, job: ImportJob) -> list[list[str]]:
    """The first rows as text, for the mapping page."""
    try:
        table = job_table(job)
    except (ImportFileInvalid, ImportNotAllowed):
        return []
    return [
        ["" if cell is None else str(cell) for cell in row] for row in table.rows[:PREVIEW_ROWS]
    ]


def _require(job: ImportJob, *statuses: str) -> None:
    if job.status not in statuses:
        raise ImportNotAllowed
