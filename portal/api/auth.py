"""API sign-in: e-mail + password (+ a TOTP or recovery code for accounts with MFA) → a new
knox token for this sign-in (device).

Failures count in the same lockout as every other way in (`portal.services.lockout`: per
account + client IP, whatever spelling of the identifier); a locked pair gets 429 with
Retry-After until the cool-off ends, whatever it sends. Every wrong answer looks the same (401),
so the endpoint does not tell which of e-mail, password or code was wrong; only a correct
password on an MFA account without a code is answered with 400 asking for the code. A down
lockout store answers 503: no sign-in goes uncounted.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from portal.api.authentication import MFA_SETUP_REQUIRED
from portal.api.exceptions import Problem
from portal.auth.policy import mfa_missing
from portal.models import ApiToken
from portal.selectors.accounts import login_for_identifier
from portal.services import lockout
from portal.services.api_tokens import api_token_issue
from portal.services.limits import StoreUnavailable

User = get_user_model()


def _bad_credentials() -> Problem:
    return Problem(
        status_code=401,
        slug="invalid-credentials",
        detail=_("The e-mail, password or code is not correct."),
    )


class RetryLater(Problem):
    """A problem answered with Retry-After: the handler reads `wait` as it does DRF's
    Throttled."""

    def __init__(self, *, status_code: int, slug: str, detail, wait: int) -> None:
        super().__init__(status_code=status_code, slug=slug, detail=detail)
        self.wait = wait


def _mfa_authenticators(user) -> list[Authenticator]:
    return list(
        Authenticator.objects.filter(
            user=user,
            type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES],
        )
    )


def _otp_is_valid(authenticators: list[Authenticator], otp: str) -> bool:
    # TOTP first; recovery codes are the fallback when the phone is lost.
    ordered = sorted(authenticators, key=lambda a: a.type != Authenticator.Type.TOTP)
    for authenticator in ordered:
        if authenticator.wrap().validate_code(otp):
            authenticator.record_usage()
            return True
    return False


def api_token_obtain(
    *, email: str, password: str, otp: str = "", ip: str | None, user_agent: str = ""
) -> tuple[ApiToken, str]:
    """A new token for this sign-in: (row, token); raises `Problem` 400/401/403/429/503."""
    try:
        return _obtain(email=email, password=password, otp=otp, ip=ip, user_agent=user_agent)
    except StoreUnavailable as exc:
        raise RetryLater(status_code=503, slug=exc.code, detail=exc.message, wait=60) from exc


def _obtain(
    *, email: str, password: str, otp: str, ip: str | None, user_agent: str
) -> tuple[ApiToken, str]:
    user = login_for_identifier(identifier=email)
    subject = (
        lockout.user_subject(user=user)
        if user is not None
        else lockout.lockout_subject(identifier=email)
    )
    seconds = lockout.login_locked_for(subject=subject, ip=ip)
    if seconds:
        raise RetryLater(
            status_code=429,
            slug="sign-in-locked",
            detail=_("Too many failed attempts. Try again in a few minutes."),
            wait=seconds,
        )
    if user is None:
        # Spend the same hashing time as a real check so timing does not reveal accounts.
        User().set_password(password)
        lockout.login_failed(subject=subject, ip=ip)
        raise _bad_credentials()
    if not user.check_password(password) or not user.is_active:
        lockout.login_failed(subject=subject, ip=ip)
        raise _bad_credentials()
    authenticators = _mfa_authenticators(user)
    mfa_verified = False
    if any(a.type == Authenticator.Type.TOTP for a in authenticators):
        if not otp:
            raise Problem(
                status_code=400,
                slug="otp-required",
                detail=_("This account uses two-factor sign-in: send the code as otp."),
                extra={"errors": {"otp": [str(_("Enter the code from your authenticator app."))]}},
            )
        if not _otp_is_valid(authenticators, otp):
            lockout.login_failed(subject=subject, ip=ip)
            raise _bad_credentials()
        mfa_verified = True
    lockout.login_succeeded(subject=subject, ip=ip)
    if mfa_missing(user):
        # Staff must have an authenticator app; a token would sidestep the page-side rule.
        raise Problem(status_code=403, slug="mfa-setup-required", detail=MFA_SETUP_REQUIRED)
    return api_token_issue(user=user, user_agent=user_agent, mfa_verified=mfa_verified)
