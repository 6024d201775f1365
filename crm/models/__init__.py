from .assistant import Conversation, Turn
from .campaigns import Campaign, CampaignRecipient
from .imports import DuplicateCandidate, ImportIssue, ImportJob, LegacyVisit
from .knowledge import KnowledgeArticle
from .leads import AdSpend, Lead, LeadEvent, PipelineStage, Segment

__all__ = [
    "AdSpend",
    "Campaign",
    "CampaignRecipient",
    "KnowledgeArticle",
    "DuplicateCandidate",
    "ImportIssue",
    "ImportJob",
    "Conversation",
    "Lead",
    "LeadEvent",
    "LegacyVisit",
    "PipelineStage",
    "Segment",
    "Turn",
]
