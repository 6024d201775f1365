"""Closing the loop: a lead whose person books a visit is marked booked with that visit.

Run by Celery beat every minute (and callable by hand), so whichever way the booking was made —
the portal, the desk, the API, an aggregator — the lead follows without the booking engine
knowing about the CRM.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from crm.choices import LeadEventKind, StageKind
from crm.models import Lead, LeadEvent
from crm.services.activity import lead_outcome_set
from crm.services.leads import patient_matching, pipeline_of
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment

# A lead is followed this long for a booking; after that a visit is not its doing.
FOLLOW_DAYS = 90
NOT_A_BOOKING = (AppointmentStatus.ROLLED_BACK,)


@transaction.atomic
def leads_close_loop(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Link open leads to the patient their phone or e-mail now finds (only when exactly one
    profile matches) and to that patient's first booking made after the lead; move a booked
    lead to the pipeline's first "booked" stage. Returns how many leads were marked booked."""
    now = now or timezone.now()
    leads = list(
        Lead.objects.select_for_update(skip_locked=True)
        .filter(
            closed_at__isnull=True,
            booked_appointment__isnull=True,
            created_at__gte=now - datetime.timedelta(days=FOLLOW_DAYS),
        )
        .order_by("created_at")[:batch]
    )
    booked = 0
    for lead in leads:
        if lead.patient_id is None and not _link_patient(lead, now):
            continue
        visit = (
            Appointment.objects.filter(patient=lead.patient, created_at__gte=lead.created_at)
            .exclude(status__in=NOT_A_BOOKING)
            .order_by("created_at")
            .first()
        )
        if visit is None:
            continue
        won = next((s for s in pipeline_of(lead.clinic) if s.kind == StageKind.WON), None)
        lead.booked_appointment = visit
        fields = ["booked_appointment", *lead_outcome_set(lead, visit)]
        if won is not None:
            lead.stage = won
            lead.closed_at = now
            fields += ["stage", "closed_at"]
        lead.save(update_fields=fields)
        LeadEvent.objects.create(
            lead=lead, kind=LeadEventKind.BOOKED, stage=won, occurred_at=visit.created_at
        )
        booked += 1
    return booked


def _link_patient(lead: Lead, now: datetime.datetime) -> bool:
    patient = patient_matching(phone_bidx=lead.phone_bidx, email_bidx=lead.email_bidx)
    if patient is None:
        return False
    lead.patient = patient
    lead.save(update_fields=["patient"])
    LeadEvent.objects.create(lead=lead, kind=LeadEventKind.PATIENT, occurred_at=now)
    return True
