from .activity import ActivityState, PatientActivity, PatientSpecialty
from .assistant import Conversation, Turn
from .campaigns import Campaign, CampaignRecipient
from .imports import DuplicateCandidate, ImportIssue, ImportJob, LegacyVisit
from .knowledge import KnowledgeArticle
from .leads import AdSpend, Lead, LeadEvent, PipelineStage, Segment
from .tasks import LeadTask

__all__ = [
    "ActivityState",
    "LeadTask",
    "PatientActivity",
    "PatientSpecialty",
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
