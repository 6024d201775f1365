from .leads import Lead, LeadEvent, PipelineStage

__all__ = ["Lead", "LeadEvent", "PipelineStage"]
