from .leads import AdSpend, Lead, LeadEvent, PipelineStage

__all__ = ["AdSpend", "Lead", "LeadEvent", "PipelineStage"]
