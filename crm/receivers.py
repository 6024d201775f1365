"""Enquiries announced by other apps become leads (`portal.signals.enquiry_received`); a
consent signed or withdrawn reaches the activity facts in its own transaction
(`portal.signals.consent_changed`); a changed catalogue makes the assistant rebuild its
vocabulary."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models.signals import post_delete, post_save

from crm.choices import LeadSource
from crm.selectors.assistant_vocabulary import vocabulary_version_bump
from crm.services.activity import activity_consent_follow
from crm.services.leads import lead_create
from portal.choices import ConsentPurpose
from portal.models import Clinic
from portal.signals import consent_changed, enquiry_received
from scheduling.models import Doctor, Service, Specialty


def lead_from_enquiry(
    *,
    source: str,
    clinic: Clinic | None,
    phone: str,
    tracking_number: str,
    occurred_at: datetime.datetime,
    **kwargs: Any,
) -> None:
    """A missed or first-time call becomes a lead (or a "came back" line on the caller's open
    lead), with the number they dialled as its tracking number."""
    lead_create(
        source=source if source in LeadSource.values else LeadSource.OTHER,
        actor=None,
        clinic=clinic,
        phone=phone,
        attribution={"tracking_number": tracking_number},
        now=occurred_at,
    )


def consent_to_facts(*, patient_id: int, purpose: str, **kwargs: Any) -> None:
    """Segments count the consent to advertising from the facts: set it there at once."""
    if purpose == ConsentPurpose.ADVERTISING:
        activity_consent_follow(patient_id=patient_id)


def catalogue_changed(**kwargs: Any) -> None:
    vocabulary_version_bump()


def connect() -> None:
    enquiry_received.connect(lead_from_enquiry, dispatch_uid="crm.lead_from_enquiry")
    consent_changed.connect(consent_to_facts, dispatch_uid="crm.consent_to_facts")
    for model in (Specialty, Service, Doctor, Clinic):
        for signal in (post_save, post_delete):
            signal.connect(
                catalogue_changed, sender=model, dispatch_uid=f"crm.vocabulary.{model.__name__}"
            )
