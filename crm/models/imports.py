"""Import of patients and visit history from a legacy system's export, and the duplicates it
and the front desk find."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.choices import DuplicateStatus, ImportOutcome, ImportStatus
from portal.fields import EncryptedCharField
from portal.models import Clinic, Patient


class ImportJob(models.Model):
    """One uploaded file on its way into the patient base.

    The file is PII: `payload` holds it encrypted with the field keys, and only until the job
    ends (it is emptied when the run finishes, fails or is cancelled). `cursor` counts the data
    rows already processed, committed with each chunk, so a restarted worker continues where
    the last one stopped. Counters and issues name rows by number, never by content.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file_format = models.CharField(_("format"), max_length=4)
    file_size = models.PositiveIntegerField(_("file size, bytes"))
    payload = models.BinaryField(_("encrypted file"), blank=True, editable=False)
    headers = models.JSONField(_("column headers"), default=list)
    mapping = models.JSONField(_("field of each column"), default=dict)
    total_rows = models.PositiveIntegerField(_("data rows"), default=0)
    cursor = models.PositiveIntegerField(_("rows processed"), default=0)
    counts = models.JSONField(_("results of the run"), default=dict)
    dry_run_counts = models.JSONField(_("results of the dry run"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("patient import")
        verbose_name_plural = _("patient imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cursor__lte=F("total_rows")), name="import_cursor_within_file"
            )
        ]

    def __str__(self):
        return f"import {self.public_id} ({self.status})"

    @property
    def progress_percent(self) -> int:
        return int(self.cursor * 100 / self.total_rows) if self.total_rows else 0


class ImportIssue(models.Model):
    """What happened to one row worth reporting: an error (the row was skipped), a link to an
    existing profile, or a probable duplicate. Holds a code and a field name, never values."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="issues", verbose_name=_("import")
    )
    dry_run = models.BooleanField(_("found by the dry run"), default=False)
    row_number = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=ImportOutcome.choices)
    field = models.CharField(_("field"), max_length=30, blank=True)
    code = models.CharField(_("reason"), max_length=30, blank=True)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )

    class Meta:
        verbose_name = _("import issue")
        verbose_name_plural = _("import issues")
        ordering = ["row_number", "pk"]
        indexes = [models.Index(fields=["job", "dry_run", "outcome"])]

    def __str__(self):
        return f"row {self.row_number}: {self.outcome} {self.code}"


class LegacyVisit(models.Model):
    """A past visit from a legacy system's history, attached to the patient.

    Not an `Appointment`: an appointment needs a doctor, service, room and price of this
    network and takes part in the overlap constraints, quotas, revenue and the funnel; a
    legacy row names a doctor and a service only as text and happened elsewhere in time.
    What was seen and by whom is medical detail, so both are encrypted.
    """

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="legacy_visits",
        verbose_name=_("patient"),
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic")
    )
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("import"),
    )
    visited_at = models.DateTimeField(_("visit time"))
    doctor_name = EncryptedCharField(_("doctor"), max_length=200, blank=True)
    service_name = EncryptedCharField(_("service"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("past visit (imported)")
        verbose_name_plural = _("past visits (imported)")
        ordering = ["-visited_at"]
        indexes = [models.Index(fields=["patient", "visited_at"])]

    def __str__(self):
        return f"visit of {self.patient_id} at {self.visited_at:%Y-%m-%d %H:%M}"


class DuplicateCandidate(models.Model):
    """Two profiles that probably belong to one person, waiting for a human to merge or
    dismiss them. `patient_a` has the lower id, so a pair is recorded once."""

    patient_a = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("profile A")
    )
    patient_b = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("profile B")
    )
    score = models.PositiveSmallIntegerField(_("similarity, %"))
    reason = models.CharField(_("reason"), max_length=30)
    job = models.ForeignKey(
        ImportJob,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("found by import"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    created_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("probable duplicate")
        verbose_name_plural = _("probable duplicates")
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["patient_a", "patient_b"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=Q(patient_a__lt=F("patient_b")), name="duplicate_pair_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.patient_a_id} ~ {self.patient_b_id} ({self.score}%)"
