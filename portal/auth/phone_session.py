"""A phone number waiting for a profile, kept in the session until onboarding.

A new login has no Patient yet, and phones live only on the Patient profile. Between sign-up
(or an SMS check) and the onboarding page the number waits here, encrypted like every stored
phone, tied to the user it belongs to.
"""

from __future__ import annotations

from portal.crypto import DecryptionError, decrypt_text, encrypt_text

SESSION_KEY = "medfront_pending_phone"


def remember(request, *, user, phone: str, verified: bool) -> None:
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_KEY] = {
        "user": str(user.pk),
        "phone": encrypt_text(phone),
        "verified": bool(verified),
    }


def recall(request, *, user) -> tuple[str, bool] | None:
    """(phone, verified) remembered for `user` in this session, or None."""
    if request is None or not hasattr(request, "session"):
        return None
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("user") != str(user.pk):
        return None
    try:
        return decrypt_text(entry["phone"]), bool(entry.get("verified"))
    except (DecryptionError, KeyError, TypeError, AttributeError):
        return None


def forget(request) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)
