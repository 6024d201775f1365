"""Integration tokens on the FHIR API: `Authorization: Bearer <token>`.

An integration token (`portal.models.IntegrationToken`) is a system's credential, not a
person's sign-in: it has no 12-hour staff lifetime, idle timeout or second factor (the network
admin who issued it passed theirs), but it works only until its own expiry or revocation, only
on the FHIR API, and only for its scopes: `fhir.read` for reading methods, `fhir.write` for
the others (booking and cancelling). The REST API does not take it (knox's `Token` scheme).
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions

from portal.choices import IntegrationScope
from portal.models import IntegrationToken
from portal.services.integration_tokens import TokenRefused, integration_token_check

KEYWORD = "Bearer"
READ_METHODS = ("GET", "HEAD", "OPTIONS")


def refusal_text(reason: str) -> str:
    if reason == "revoked":
        return gettext("The integration token was revoked.")
    if reason == "expired":
        return gettext("The integration token has expired.")
    return gettext("Invalid token.")


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(gettext("Invalid token."))
        try:
            token = integration_token_check(parts[1].decode("ascii"))
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(gettext("Invalid token.")) from exc
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(refusal_text(exc.reason)) from exc
        return token.login, token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="fhir"'


def require_scope(request) -> None:
    """403 when the request came with an integration token lacking the method's scope."""
    token = request.auth
    if not isinstance(token, IntegrationToken):
        return
    needed = (
        IntegrationScope.FHIR_READ
        if request.method in READ_METHODS
        else (IntegrationScope.FHIR_WRITE)
    )
    if needed.value not in (token.scopes or []):
        raise exceptions.PermissionDenied(
            gettext("The integration token does not allow this (scope %(scope)s needed).")
            % {"scope": needed.value}
        )


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.integration_auth.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=KEYWORD
        )
