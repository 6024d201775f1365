"""API authentication that keeps the staff MFA rule.

Pages send a staff member without an authenticator app to set one up (middleware); the API
cannot redirect, so a staff session or token without MFA is refused with 403 here, before any
view runs. Demo staff are exempt under the same setting as on pages (DEBUG only).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions

from portal import permissions
from portal.auth.policy import mfa_missing
from portal.models import StaffMembership

MFA_SETUP_REQUIRED = _(
    "Staff accounts must set up two-factor authentication (Security page) before using the API."
)


def refuse_staff_without_mfa(user) -> None:
    if mfa_missing(user):
        raise exceptions.PermissionDenied(MFA_SETUP_REQUIRED, code="mfa_setup_required")


class MfaEnforcingTokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        """DRF's check of the token, loading with the user whether they hold any staff role:
        every API request asks (the staff MFA rule below), now answered by the same query. The
        patient profile is not joined: loading it decrypts its fields, which most requests of
        staff and many of patients never read."""
        model = self.get_model()
        try:
            token = (
                model.objects.select_related("user")
                .annotate(
                    user_is_staff=Exists(StaffMembership.objects.filter(user=OuterRef("user_id")))
                )
                .get(key=key)
            )
        except model.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(gettext("Invalid token.")) from exc
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(gettext("User inactive or deleted."))
        if not token.user_is_staff:
            permissions.remember_no_memberships(token.user)
        return token.user, token

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            refuse_staff_without_mfa(result[0])
        return result


class MfaEnforcingSessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            refuse_staff_without_mfa(result[0])
        return result


class MfaEnforcingSessionScheme(SessionScheme):
    """Documents the session authenticator like DRF's own (cookie auth)."""

    target_class = "portal.api.authentication.MfaEnforcingSessionAuthentication"
