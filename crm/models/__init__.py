from .campaigns import Campaign, CampaignRecipient
from .knowledge import KnowledgeArticle
from .leads import AdSpend, Lead, LeadEvent, PipelineStage, Segment

__all__ = [
    "AdSpend",
    "Campaign",
    "CampaignRecipient",
    "KnowledgeArticle",
    "Lead",
    "LeadEvent",
    "PipelineStage",
    "Segment",
]
