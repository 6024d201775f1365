"""API authentication: knox tokens and sessions, both held to the staff MFA rule.

Pages send a staff session that owes the second factor to set it up or to enter it
(middleware); the API cannot redirect, so such a session or token is refused with 403 here,
before any view runs. A token counts as having passed MFA only if the sign-in that issued it
did (`ApiToken.mfa_verified`), as a session counts only if it passed the code itself. Demo
staff are exempt under the same setting as on pages (DEBUG only).

A token is refused, and deleted, once it is expired (its own expiry, or the staff lifetime if
its login has become staff since), unused for longer than the staff idle timeout (staff), issued
under a password that has changed since, or its login is deactivated.
"""

from __future__ import annotations

from hmac import compare_digest

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import authentication, exceptions

from portal import permissions
from portal.auth.policy import MfaState, is_staff_login, mfa_missing, mfa_required
from portal.auth.policy import staff_mfa_state as session_mfa_state
from portal.models import ApiToken, StaffMembership
from portal.services.api_tokens import (
    api_token_delete,
    api_token_ttl,
    api_token_used,
    api_tokens_revoke_all,
)

MFA_SETUP_REQUIRED = _(
    "Staff accounts must set up two-factor authentication (Security page) before using the API."
)
MFA_CODE_REQUIRED = _(
    "Staff must pass two-factor authentication first: sign in again with the code from your "
    "authenticator app."
)


def refuse_staff_without_mfa(user) -> None:
    if mfa_missing(user):
        raise exceptions.PermissionDenied(MFA_SETUP_REQUIRED, code="mfa_setup_required")


def _password_unchanged(token: ApiToken, user) -> bool:
    """The password is the one the token was issued under (Django's session auth hash, with
    the fallbacks of a rotated SECRET_KEY)."""
    marker = token.password_marker
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return bool(marker) and any(compare_digest(marker, h) for h in hashes)


def _refusal(token: ApiToken, user) -> str | None:
    """Why `token` may no longer be used (a translated sentence), or None."""
    now = timezone.now()
    expiry = min(
        [t for t in (token.expiry, token.created + api_token_ttl(user=user)) if t is not None]
    )
    if expiry <= now:
        return gettext("The token has expired. Sign in again.")
    idle = now - (token.last_used_at or token.created)
    if is_staff_login(user) and idle > settings.STAFF_IDLE_TIMEOUT:
        return gettext("The token was not used for too long. Sign in again.")
    if not _password_unchanged(token, user):
        return gettext("The password has changed since this token was issued. Sign in again.")
    return None


class MfaEnforcingTokenAuthentication(TokenAuthentication):
    """knox's token authentication (`Authorization: Token <token>`) with Medfront's rules."""

    def authenticate_credentials(self, token):
        """The token's row, loaded with its user and whether they hold any staff role in one
        query: every API request asks (the staff rules below). The patient profile is not
        joined: loading it decrypts its fields, which most requests never read."""
        invalid = exceptions.AuthenticationFailed(gettext("Invalid token."))
        try:
            text = token.decode("ascii") if isinstance(token, bytes) else str(token)
        except UnicodeDecodeError as exc:
            raise invalid from exc
        digest = hash_token(text)
        found = next(
            (
                row
                for row in ApiToken.objects.select_related("user")
                .annotate(
                    user_is_staff=Exists(StaffMembership.objects.filter(user=OuterRef("user_id")))
                )
                .filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
                if compare_digest(digest, row.digest)
            ),
            None,
        )
        if found is None:
            raise invalid
        user = found.user
        if not user.is_active:
            api_tokens_revoke_all(user=user)
            raise exceptions.AuthenticationFailed(gettext("User inactive or deleted."))
        if not found.user_is_staff:
            permissions.remember_no_memberships(user)
        refusal = _refusal(found, user)
        if refusal is not None:
            api_token_delete(token=found)
            raise exceptions.AuthenticationFailed(refusal)
        api_token_used(token=found)
        return user, found

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            user, token = result
            refuse_staff_without_mfa(user)
            if mfa_required(user) and not token.mfa_verified:
                raise exceptions.PermissionDenied(MFA_CODE_REQUIRED, code="mfa_required")
        return result


class MfaEnforcingSessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            # The user is passed on: asking `request.user` here would authenticate again.
            state = session_mfa_state(request, result[0])
            if state is MfaState.SETUP:
                raise exceptions.PermissionDenied(MFA_SETUP_REQUIRED, code="mfa_setup_required")
            if state is MfaState.VERIFY:
                raise exceptions.PermissionDenied(MFA_CODE_REQUIRED, code="mfa_required")
        return result


class MfaEnforcingTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token authenticator as knox's (`Authorization: Token <token>`)."""

    target_class = "portal.api.authentication.MfaEnforcingTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )


class MfaEnforcingSessionScheme(SessionScheme):
    """Documents the session authenticator like DRF's own (cookie auth)."""

    target_class = "portal.api.authentication.MfaEnforcingSessionAuthentication"
