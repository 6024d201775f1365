"""Who reaches which leads: holders of `crm.use`, for the clinics they hold it in; who edits
the assistant's knowledge base: holders of `knowledge.manage`, likewise.

A lead without a clinic (a network-wide form, an unknown line) is seen only by network-wide
CRM users. Lookups raise 403 for users without the capability anywhere and 404 for a lead of
another clinic or one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from crm.models import ImportJob, KnowledgeArticle, Lead
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


# --- The assistant's knowledge base --------------------------------------------------------

KNOWLEDGE = "knowledge.manage"


def require_knowledge_editor(user: Any) -> None:
    permissions.require_capability(user, KNOWLEDGE)


def articles_visible_to(user: Any) -> QuerySet[KnowledgeArticle]:
    """A clinic admin's clinics' articles and the network-wide ones (read-only for them)."""
    ids = permissions.clinic_ids_with(user, KNOWLEDGE)
    articles = KnowledgeArticle.objects.select_related("clinic", "service")
    if ids is None:
        return articles
    return articles.filter(Q(clinic_id__in=ids) | Q(clinic__isnull=True))


def can_edit_article(user: Any, article: KnowledgeArticle) -> bool:
    """Network-wide articles are the network admin's; a clinic's are its admins'."""
    if article.clinic_id is None:
        return permissions.clinic_ids_with(user, KNOWLEDGE) is None
    return permissions.has_capability(user, KNOWLEDGE, article.clinic_id)


def get_article_for_user(
    user: Any, public_id: uuid.UUID | str, *, action: str = "view"
) -> KnowledgeArticle:
    """404 for another clinic's or a missing article; 403 for one they may read only."""
    require_knowledge_editor(user)
    article = articles_visible_to(user).filter(public_id=public_id).first()
    if article is None:
        raise Http404
    if action != "view" and not can_edit_article(user, article):
        raise PermissionDenied
    return article


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
