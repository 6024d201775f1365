from .assistant import Conversation, Turn
from .campaigns import Campaign, CampaignRecipient
from .leads import AdSpend, Lead, LeadEvent, PipelineStage, Segment

__all__ = [
    "AdSpend",
    "Campaign",
    "CampaignRecipient",
    "Conversation",
    "Lead",
    "LeadEvent",
    "PipelineStage",
    "Segment",
    "Turn",
]
