"""Who reaches which leads: holders of `crm.use`, for the clinics they hold it in.

A lead without a clinic (a network-wide form, an unknown line) is seen only by network-wide
CRM users. Lookups raise 403 for users without the capability anywhere and 404 for a lead of
another clinic or one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from crm.models import ImportJob, Lead
from portal import permissions
from portal.models import Patient

CAPABILITY = "crm.use"


def require_crm_user(user: Any) -> None:
    permissions.require_capability(user, CAPABILITY)


def leads_visible_to(user: Any) -> QuerySet[Lead]:
    ids = permissions.clinic_ids_with(user, CAPABILITY)
    if ids is None:
        return Lead.objects.all()
    return Lead.objects.filter(Q(clinic_id__in=ids))


def get_lead_for_user(user: Any, public_id: uuid.UUID | str) -> Lead:
    require_crm_user(user)
    lead = (
        leads_visible_to(user)
        .select_related("stage", "owner", "clinic", "patient")
        .filter(public_id=public_id)
        .first()
    )
    if lead is None:
        raise Http404
    return lead


def can_import(user: Any, clinic: Any) -> bool:
    return permissions.has_capability(user, "patient.import", clinic)


def import_jobs_visible_to(user: Any) -> QuerySet[ImportJob]:
    ids = permissions.clinic_ids_with(user, "patient.import")
    if ids is None:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(clinic_id__in=ids)


def get_import_job_for_user(user: Any, public_id: uuid.UUID | str) -> ImportJob:
    """The job if `user` may import in its clinic: 403 without the capability, 404 for a job
    of another clinic or none."""
    permissions.require_capability(user, "patient.import")
    job = import_jobs_visible_to(user).select_related("clinic").filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job


def can_merge(user: Any, *profiles: Patient) -> bool:
    """Staff of one clinic merge profiles whose home clinic is theirs; a profile without a
    home clinic belongs to the network and needs a network-wide merger."""
    ids = permissions.clinic_ids_with(user, "patient.merge")
    if ids is None:
        return True
    return all(profile.home_clinic_id in ids for profile in profiles)
