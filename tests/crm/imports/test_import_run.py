import datetime
import time

import pytest

from crm.choices import DuplicateStatus, ImportOutcome, ImportStatus
from crm.models import DuplicateCandidate, ImportIssue, LegacyVisit
from crm.services.imports.jobs import import_job_create, import_job_start
from crm.services.imports.runner import import_job_advance
from portal.models import AuditEvent, Patient
from tests.crm.imports.files import legacy_rows, to_csv

pytestmark = pytest.mark.django_db


def _upload(actor, clinic, data, name="export.csv"):
    return import_job_create(actor=actor, clinic=clinic, file_name=name, data=data)


def test_it_imports_ten_thousand_rows_and_finds_the_planted_duplicates(
    clinic_admin_a, clinic_a, django_capture_on_commit_callbacks
):
    rows, planted = legacy_rows(10_000)
    job = _upload(clinic_admin_a, clinic_a, to_csv(rows))
    assert job.mapping == {
        "0": "full_name",
        "1": "birth_date",
        "2": "phone",
        "3": "email",
        "4": "visit_at",
        "5": "visit_doctor",
        "6": "visit_service",
    }
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        import_job_start(job=job, dry_run=False)
    elapsed = time.monotonic() - started
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.payload == b""
    originals = 10_000 - planted.exact - planted.fuzzy
    assert job.counts["created"] == originals + planted.fuzzy
    assert job.counts["linked"] == planted.exact
    assert job.counts["flagged"] == planted.fuzzy
    assert job.counts.get("errors", 0) == 0
    assert Patient.objects.count() == originals + planted.fuzzy
    assert LegacyVisit.objects.count() == 10_000
    assert DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).count() == planted.fuzzy
    assert AuditEvent.objects.filter(object_type="portal.patient", action="create").count() == (
        originals + planted.fuzzy
    )
    print(f"10,000 rows imported in {elapsed:.1f} s")
