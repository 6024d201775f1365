"""Campaigns and their results, for the marketer's pages.

Results of a sent campaign: messages queued; sent (the provider took them); delivered (the
provider reported delivery; e-mail reports none, so for e-mail "sent" is what is known);
booked — recipients who booked a visit within the campaign's window after it was sent;
attended — of those visits, the completed ones; revenue — their price.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum

from crm.models import Campaign, CampaignRecipient
from crm.permissions import require_crm_user
from notifications.choices import DeliveryStatus, MessageStatus
from portal import permissions
from portal.types import RequestUser
from scheduling.choices import AppointmentStatus
from scheduling.models import Appointment


@dataclass(frozen=True)
class CampaignResults:
    queued: int
    sent: int
    delivered: int
    booked: int
    attended: int
    revenue: Decimal


def campaigns_for_user(*, user: RequestUser) -> list[Campaign]:
    require_crm_user(user)
    ids = permissions.clinic_ids_with(user, "crm.use")
    campaigns = Campaign.objects.select_related("segment", "clinic")
    if ids is not None:
        campaigns = campaigns.filter(clinic_id__in=ids)
    return list(campaigns[:100])


def campaign_results(*, campaign: Campaign) -> CampaignResults | None:
    """The figures of a sent campaign (None for a draft); three queries."""
    if campaign.sent_at is None:
        return None
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    messages = recipients.aggregate(
        sent=Count("pk", filter=Q(message__status=MessageStatus.SENT)),
        delivered=Count("pk", filter=Q(message__delivery_status=DeliveryStatus.DELIVERED)),
    )
    until = campaign.sent_at + datetime.timedelta(days=campaign.booking_window_days)
    visits = Appointment.objects.filter(
        Exists(recipients.filter(patient=OuterRef("patient"))),
        created_at__gte=campaign.sent_at,
        created_at__lt=until,
    ).exclude(status=AppointmentStatus.ROLLED_BACK)
    if campaign.clinic_id is not None:
        visits = visits.filter(clinic_id=campaign.clinic_id)
    figures = visits.aggregate(
        booked=Count("patient", distinct=True),
        attended=Count("pk", filter=Q(status=AppointmentStatus.COMPLETED)),
        revenue=Sum("price", filter=Q(status=AppointmentStatus.COMPLETED)),
    )
    return CampaignResults(
        queued=campaign.recipients,
        sent=messages["sent"],
        delivered=messages["delivered"],
        booked=figures["booked"],
        attended=figures["attended"],
        revenue=figures["revenue"] or Decimal("0"),
    )
