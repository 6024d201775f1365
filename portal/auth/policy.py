"""Who the staff session rules apply to, and whether a session meets them: MFA, idle logout.

Workplace access comes from StaffMembership rows (`is_staff_member`); Django's `is_staff`
(the admin site) counts too, because an admin login can read everything.

What counts for MFA is the session, not the account: a staff session must have passed a
second factor itself (allauth records each authentication step of a session, and an "mfa"
step is a code from the authenticator app), or have just set the app up with a valid code.
Having an authenticator on the account is not enough: a session opened any other way (an
entry point that skips allauth's MFA stage, one added later) has not proved the second factor.
"""

from __future__ import annotations

import enum

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings

from portal.permissions import is_staff_member

# Set when this session activated the login's authenticator app with a valid code (allauth
# records no authentication step for that; portal.auth.code_forms.ActivateTotpForm); the value
# is the login's primary key.
SESSION_MFA_SETUP_KEY = "medfront_mfa_set_up_by"


class MfaState(enum.Enum):
    """What a session still owes the staff MFA rule."""

    MET = "met"
    SETUP = "setup"  # the login has no authenticator app yet
    VERIFY = "verify"  # it has one, but this session has not passed it


def is_staff_login(user) -> bool:
    """True for a signed-in user whose session follows the staff rules.

    Uses the per-request membership cache of `portal.permissions`, so the views' own
    permission checks that follow cost no further query.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or is_staff_member(user))


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def mfa_exempt(user) -> bool:
    """Demo staff may skip MFA, and only while the setting (true only with DEBUG) says so."""
    return bool(getattr(user, "is_demo", False) and settings.MFA_EXEMPT_DEMO_STAFF)


def mfa_required(user) -> bool:
    """A staff login must have an authenticator app before it may use the site."""
    return is_staff_login(user) and not mfa_exempt(user)


def mfa_missing(user) -> bool:
    return mfa_required(user) and not has_totp(user)


def session_passed_mfa(request, user) -> bool:
    """Whether the session of `request` proved `user`'s second factor."""
    if any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
        return True
    return request.session.get(SESSION_MFA_SETUP_KEY) == str(user.pk)


def mark_session_mfa_set_up(session, user) -> None:
    """Record that this session activated `user`'s authenticator app with a valid code."""
    session[SESSION_MFA_SETUP_KEY] = str(user.pk)


def staff_mfa_state(request, user) -> MfaState:
    """What the session of `request` (a Django or DRF request), signed in as `user`, owes the
    staff MFA rule."""
    if user is None or not mfa_required(user):
        return MfaState.MET
    if not has_totp(user):
        return MfaState.SETUP
    if not session_passed_mfa(request, user):
        return MfaState.VERIFY
    return MfaState.MET
