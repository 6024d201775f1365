"""One-time codes of sign-in and phone verification sent by allauth: their limits
(`portal.services.code_limits`) seen from the request.

When a code goes out, the session remembers the keyed digests it is counted under and the
login it signs in, so the form that checks the code counts a wrong one against the same phone
and person (and, for sign-in codes, the lockout) without keeping the phone itself.
"""

from __future__ import annotations

from allauth.core.exceptions import RateLimited

from portal.services.code_limits import CodeLimitReached, CodeTarget

SESSION_KEY = "medfront_pending_code"


class CodeRateLimited(RateLimited):
    """allauth's signal that a code may not be sent, with our message and wait.

    allauth shows its own message when a resend is refused this way; anywhere else the
    TryLaterMiddleware answers 429 with this message.
    """

    def __init__(self, refused: CodeLimitReached) -> None:
        super().__init__(str(refused.message))
        self.message = refused.message
        self.retry_after = refused.retry_after


def remember(request, *, target: CodeTarget, subject: str) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = {"target": target.as_list(), "subject": subject}


def pending(request) -> tuple[CodeTarget, str] | None:
    """(target, lockout subject) of the code this session is waiting for, if any."""
    if request is None or not hasattr(request, "session"):
        return None
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict):
        return None
    target = CodeTarget.from_list(entry.get("target"))
    subject = entry.get("subject")
    if target is None or not isinstance(subject, str):
        return None
    return target, subject
