from .campaigns import Campaign, CampaignRecipient
from .leads import AdSpend, Lead, LeadEvent, PipelineStage, Segment

__all__ = [
    "AdSpend",
    "Campaign",
    "CampaignRecipient",
    "Lead",
    "LeadEvent",
    "PipelineStage",
    "Segment",
]
