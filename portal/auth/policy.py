"""Who the staff session rules apply to: MFA required, idle logout.

Workplace access comes from StaffMembership rows (`is_staff_member`); Django's `is_staff`
(the admin site) counts too, because an admin login can read everything.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings

from portal.permissions import is_staff_member


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
