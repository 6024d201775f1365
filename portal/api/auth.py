"""API sign-in: e-mail + password (+ a TOTP or recovery code for accounts with MFA) → token.

Failures are counted per e-mail + client IP (`portal.services.lockout`); a locked pair gets 429
until the cool-off ends, whatever it sends. Every wrong answer looks the same (401), so the
endpoint does not tell which of e-mail, password or code was wrong; only a correct password on an
MFA account without a code is answered with 400 asking for the code.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from portal.api.authentication import MFA_SETUP_REQUIRED
from portal.api.exceptions import Problem
from portal.auth.policy import mfa_missing
from portal.services import lockout

User = get_user_model()


def _bad_credentials() -> Problem:
    return Problem(
        status_code=401,
        slug="invalid-credentials",
        detail=_("The e-mail, password or code is not correct."),
    )


def _locked() -> Problem:
    return Problem(
        status_code=429,
        slug="sign-in-locked",
        detail=_("Too many failed attempts. Try again in a few minutes."),
    )


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


def api_token_obtain(*, email: str, password: str, otp: str = "", ip: str | None) -> Token:
    """The caller's API token, created on first use; raises `Problem` 401/400/429."""
    identifier = (email or "").strip().lower()
    if lockout.login_is_locked(identifier=identifier, ip=ip):
        raise _locked()
    user = User.objects.filter(email__iexact=identifier).first()
    if user is None:
        # Spend the same hashing time as a real check so timing does not reveal accounts.
        User().set_password(password)
        lockout.login_failed(identifier=identifier, ip=ip)
        raise _bad_credentials()
    if not user.check_password(password) or not user.is_active:
        lockout.login_failed(identifier=identifier, ip=ip)
        raise _bad_credentials()
    authenticators = _mfa_authenticators(user)
    if any(a.type == Authenticator.Type.TOTP for a in authenticators):
        if not otp:
            raise Problem(
                status_code=400,
                slug="otp-required",
                detail=_("This account uses two-factor sign-in: send the code as otp."),
                extra={"errors": {"otp": [str(_("Enter the code from your authenticator app."))]}},
            )
        if not _otp_is_valid(authenticators, otp):
            lockout.login_failed(identifier=identifier, ip=ip)
            raise _bad_credentials()
    lockout.login_succeeded(identifier=identifier, ip=ip)
    if mfa_missing(user):
        # Staff must have an authenticator app; a token would sidestep the page-side rule.
        raise Problem(
            status_code=403,
            slug="mfa-setup-required",
            detail=MFA_SETUP_REQUIRED,
        )
    token, _created = Token.objects.get_or_create(user=user)
    return token
