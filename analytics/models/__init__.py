from .facts import DailyFact, DemandCell, DoctorDayCapacity, PatientCohort, RollupState
from .targets import KpiTarget

__all__ = [
    "DailyFact",
    "DemandCell",
    "DoctorDayCapacity",
    "KpiTarget",
    "PatientCohort",
    "RollupState",
]
