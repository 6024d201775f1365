from .leads import AdSpend, Lead, LeadEvent, PipelineStage, Segment

__all__ = ["AdSpend", "Lead", "LeadEvent", "PipelineStage", "Segment"]
