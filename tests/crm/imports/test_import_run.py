import datetime
import time

import pytest
from django.utils import timezone

from crm.choices import DuplicateStatus, ImportStatus
from crm.models import DuplicateCandidate, ImportIssue, LegacyVisit
from crm.services.imports.jobs import import_job_create, import_job_start
from crm.services.imports.runner import import_job_advance
from crm.services.merge import patient_merge
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
    # Two typos of one person also pair with each other: at least one pair per planted row.
    assert DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).count() >= planted.fuzzy
    assert AuditEvent.objects.filter(object_type="portal.patient", action="create").count() == (
        originals + planted.fuzzy
    )
    print(f"10,000 rows imported in {elapsed:.1f} s")

    # Merging every flagged pair loses no visit: each lands on the survivor.
    while pair := DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).first():
        a, b = pair.patient_a, pair.patient_b
        before = a.legacy_visits.count() + b.legacy_visits.count()
        patient_merge(actor=clinic_admin_a, survivor=a, merged=b, take_from_merged=[])
        assert a.legacy_visits.count() == before
    assert LegacyVisit.objects.count() == 10_000
    assert Patient.objects.filter(merged_into__isnull=True).count() == originals


def _run(job, *, dry_run=False):
    with _callbacks():
        import_job_start(job=job, dry_run=dry_run)
    job.refresh_from_db()
    return job


class _callbacks:
    def __enter__(self):
        from django.test import TestCase

        self._cm = TestCase.captureOnCommitCallbacks(execute=True)
        return self._cm.__enter__()

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


SMALL = "\n".join(
    [
        "Фамилия;Имя;Дата рождения;Телефон;Дата визита",
        "ПЕТРОВ;иван;01.02.1980;8 (916) 111-22-33;2024-03-01 10:00",
        "Петров;Иван;1980-02-01;+7 916 111 22 33;05.04.2024 11:30",
        "Сидорова;Анна;31.02.1990;;",
        "Сидорова;Анна;15.03.1990;12;",
        "Сидорова;Анна;15.03.1990;;",
        "Сидорва;Анна;15.03.1990;;",
    ]
).encode("cp1251")


def test_a_dry_run_writes_nothing_and_reports_per_row(clinic_admin_a, clinic_a):
    job = _run(_upload(clinic_admin_a, clinic_a, SMALL), dry_run=True)
    assert job.status == ImportStatus.CHECKED
    assert Patient.objects.count() == 0 and LegacyVisit.objects.count() == 0
    assert job.dry_run_counts == {"created": 3, "linked": 1, "errors": 2, "visits": 2, "flagged": 1}
    errors = {(i.row_number, i.field, i.code) for i in ImportIssue.objects.filter(outcome="error")}
    assert errors == {(4, "birth_date", "invalid_date"), (5, "phone", "invalid")}


def test_the_run_normalises_links_and_keeps_both_visits(clinic_admin_a, clinic_a):
    job = _run(_upload(clinic_admin_a, clinic_a, SMALL))
    assert job.status == ImportStatus.DONE and job.payload == b""
    petrov = next(p for p in Patient.objects.all() if p.phone == "+79161112233")
    assert (petrov.last_name, petrov.first_name) == ("Петров", "Иван")
    assert petrov.birth_date == datetime.date(1980, 2, 1)
    assert petrov.legacy_visits.count() == 2
    assert DuplicateCandidate.objects.count() == 1  # Сидорва ~ Сидорова


def test_a_stopped_run_resumes_at_its_cursor(clinic_admin_a, clinic_a, settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    job = _upload(clinic_admin_a, clinic_a, SMALL)
    job.status = ImportStatus.RUNNING
    job.save()
    import_job_advance(job_id=job.pk, max_chunks=1)
    job.refresh_from_db()
    assert job.cursor == 2 and job.status == ImportStatus.RUNNING
    import_job_advance(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Patient.objects.count() == 3
    assert LegacyVisit.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("a.csv", b"", "пуст"),
        ("a.csv", "ФИО;Телефон\n".encode(), "нет строк"),
        ("a.csv", "ФИО\nИванов".encode("utf-16-le"), "не текстовый"),
        ("a.csv", bytes(range(128, 256)) * 20, "Кодировка"),
        ("a.xlsx", b"not a zip", "книгой XLSX"),
        ("a.pdf", b"%PDF", "CSV или XLSX"),
    ],
)
def test_bad_files_get_a_clear_error(clinic_admin_a, clinic_a, name, data, words):
    from crm.errors import ImportFileInvalid

    with pytest.raises(ImportFileInvalid) as exc:
        _upload(clinic_admin_a, clinic_a, data, name=name)
    assert words in str(exc.value.message)


def test_a_huge_file_is_refused(clinic_admin_a, clinic_a, settings):
    from crm.errors import ImportFileInvalid

    settings.CRM_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileInvalid):
        _upload(clinic_admin_a, clinic_a, SMALL * 10)


def test_xlsx_exports_are_read(clinic_admin_a, clinic_a):
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Last name", "First name", "Date of birth", "Phone"])
    sheet.append(["Smith", "John", datetime.datetime(1970, 5, 6), 79161234567])
    out = io.BytesIO()
    book.save(out)
    job = _run(_upload(clinic_admin_a, clinic_a, out.getvalue(), name="legacy.xlsx"))
    assert job.counts["created"] == 1
    assert Patient.objects.get().phone == "+79161234567"


def test_abandoned_uploads_lose_their_file(clinic_admin_a, clinic_a):
    from crm.services.imports.jobs import import_jobs_purge_stale

    job = _upload(clinic_admin_a, clinic_a, SMALL)
    assert import_jobs_purge_stale() == 0
    later = timezone.now() + datetime.timedelta(hours=25)
    assert import_jobs_purge_stale(now=later) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED and job.payload == b""


def test_a_job_whose_file_is_gone_fails(clinic_admin_a, clinic_a):
    job = _upload(clinic_admin_a, clinic_a, SMALL)
    job.status, job.payload = ImportStatus.RUNNING, b""
    job.save()
    assert import_job_advance(job_id=job.pk).status == ImportStatus.FAILED
