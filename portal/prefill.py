"""Values another workplace hands to the staff "new patient" form, kept in the (encrypted)
session rather than the address: a caller's phone must not reach access logs or history.

The telephony caller panel remembers the caller's number here and redirects to the form,
which takes it once, within `LIFETIME`.
"""

from __future__ import annotations

import time
from typing import Any

SESSION_KEY = "medfront_new_patient_prefill"
LIFETIME_SECONDS = 600
FIELDS = ("phone",)


def new_patient_prefill_remember(session: Any, **values: str) -> None:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a prefillable field: {sorted(unknown)}")
    session[SESSION_KEY] = {"at": int(time.time()), "values": values}


def new_patient_prefill_take(session: Any) -> dict[str, str]:
    """The remembered values, forgotten as they are taken; {} when none or too old."""
    stored = session.pop(SESSION_KEY, None)
    if not isinstance(stored, dict) or not isinstance(stored.get("values"), dict):
        return {}
    if time.time() - stored.get("at", 0) > LIFETIME_SECONDS:
        return {}
    return {k: v for k, v in stored["values"].items() if k in FIELDS and isinstance(v, str)}
