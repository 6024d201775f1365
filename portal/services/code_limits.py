"""Limits of one-time codes (sign-in, phone verification, consent signing), whatever the purpose.

A code goes to an address (a phone, or an e-mail for sign-in codes) and concerns a person (a
patient, or a login without a profile). Both are counted, in the shared store, over every
purpose together: a pause between two codes (`CODE_RESEND_INTERVAL`, none when 0), at most
`CODE_SEND_LIMIT` codes and `CODE_GUESS_LIMIT` wrong codes per `CODE_LIMIT_WINDOW`. Switching
purpose, session or spelling of the number gives no fresh allowance: addresses are counted in
their canonical form (`canonical_login`) and only as keyed digests, so no phone is kept in
clear, in the store or in the session that remembers whom a pending code went to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise

from portal.crypto import blind_index
from portal.errors import PortalError
from portal.models import Patient, User
from portal.normalize import canonical_login
from portal.services import limits


class CodeLimitReached(PortalError):
    """No code may be sent or tried now; `retry_after` says for how many seconds."""

    http_status = 429
    code = "code-limit"
    default_message = _("Too many codes. Please wait a few minutes and try again.")

    def __init__(self, message: StrOrPromise | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeTarget:
    """Where a code goes and whom it concerns, as keyed digests (safe to keep in a session)."""

    digests: tuple[str, ...]

    def as_list(self) -> list[str]:
        return list(self.digests)

    @classmethod
    def from_list(cls, value: object) -> CodeTarget | None:
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return cls(digests=tuple(value))
        return None


def person_of(*, patient: Patient | None = None, user: User | None = None) -> str:
    """The person a code concerns: their patient profile, else their login."""
    if patient is not None:
        return f"patient:{patient.public_id}"
    if user is not None and user.pk is not None:
        return f"user:{user.pk}"
    return ""


def code_target(*, address: str, people: Iterable[str]) -> CodeTarget:
    materials = [f"address:{canonical_login(address)}"] if address else []
    materials += [f"person:{person}" for person in people if person]
    return CodeTarget(
        digests=tuple(dict.fromkeys(blind_index("code-target", m) for m in materials))
    )


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _send_refused(seconds: int) -> CodeLimitReached:
    minutes = _minutes(seconds)
    message = ngettext(
        "Too many codes were requested for this phone or account. "
        "You can ask for a new one in %(minutes)d minute.",
        "Too many codes were requested for this phone or account. "
        "You can ask for a new one in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    return CodeLimitReached(message, retry_after=seconds)


def _guess_refused(seconds: int) -> CodeLimitReached:
    minutes = _minutes(seconds)
    message = ngettext(
        "Too many wrong codes for this phone or account. Try again in %(minutes)d minute.",
        "Too many wrong codes for this phone or account. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    return CodeLimitReached(message, retry_after=seconds)


def _over(scope: str, target: CodeTarget, limit: int) -> int:
    """Seconds until every counter of `scope` for `target` is below `limit` (0: all are)."""
    waits = []
    for digest in target.digests:
        key = limits.store_key(scope, digest)
        if limits.counter_value(key=key) >= limit:
            waits.append(limits.counter_retry_after(key=key))
    return max(waits, default=0)


def code_guess_check(*, target: CodeTarget) -> None:
    """Raise CodeLimitReached when `target` has used up its wrong codes for now."""
    wait = _over("code-guesses", target, int(settings.CODE_GUESS_LIMIT))
    if wait:
        raise _guess_refused(wait)


def code_send_check(*, target: CodeTarget) -> None:
    """Raise CodeLimitReached when no code may be sent to `target` now: too soon after the
    previous one, too many in the window, or too many wrong codes already."""
    code_guess_check(target=target)
    pause = _over("code-resend", target, 1) if settings.CODE_RESEND_INTERVAL else 0
    wait = max(pause, _over("code-sends", target, int(settings.CODE_SEND_LIMIT)))
    if wait:
        raise _send_refused(wait)


def code_send(*, target: CodeTarget) -> None:
    """Check and count one code about to be sent to `target` (raises CodeLimitReached)."""
    code_send_check(target=target)
    for digest in target.digests:
        if settings.CODE_RESEND_INTERVAL:
            limits.counter_add(
                key=limits.store_key("code-resend", digest), window=settings.CODE_RESEND_INTERVAL
            )
        limits.counter_add(
            key=limits.store_key("code-sends", digest), window=settings.CODE_LIMIT_WINDOW
        )


def code_guess_failed(*, target: CodeTarget) -> None:
    for digest in target.digests:
        limits.counter_add(
            key=limits.store_key("code-guesses", digest), window=settings.CODE_LIMIT_WINDOW
        )


def code_guess_passed(*, target: CodeTarget) -> None:
    """A right code: the person proved the address, so earlier typos no longer count."""
    for digest in target.digests:
        limits.counter_clear(key=limits.store_key("code-guesses", digest))
