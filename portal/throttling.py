"""Request rates, counted in the shared cache (Redis when `REDIS_URL` is set).

DRF's scoped throttles with the project's rules for who is counted: anonymous callers by
client IP (`portal.request_context.client_ip`, the trusted-proxy rule the audit trail uses),
staff by account. Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (the `THROTTLE_*`
settings), read when a throttle is made so a changed setting applies at once; an empty rate
turns a limit off. A refused API request is a 429 problem with Retry-After (FHIR: an
OperationOutcome); pages use `patient_search_wait`, which counts on the same key as the API.
"""

from __future__ import annotations

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal.request_context import client_ip


class _ConfiguredRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # DRF reads the rates once, when its module is imported; read them now instead.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or None

    def key_for(self, ident) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ClientIpThrottle(_ConfiguredRateThrottle):
    """Every request counted per client IP."""

    def get_cache_key(self, request, view):
        return self.key_for(client_ip(request) or "unknown")


class AnonymousIpThrottle(ClientIpThrottle):
    """Anonymous requests counted per client IP; signed-in callers are not limited here."""

    def get_cache_key(self, request, view):
        if request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


class StaffMemberThrottle(_ConfiguredRateThrottle):
    """Requests of a signed-in account counted per account."""

    def get_cache_key(self, request, view):
        if not request.user.is_authenticated:
            return None
        return self.key_for(request.user.pk)


class SlotReadThrottle(AnonymousIpThrottle):
    scope = "slots_anon"


class FhirReadThrottle(AnonymousIpThrottle):
    scope = "fhir_anon"


class TokenEndpointThrottle(ClientIpThrottle):
    scope = "auth_token"


class PatientSearchThrottle(StaffMemberThrottle):
    scope = "patient_search"


class AssistantAnonymousThrottle(AnonymousIpThrottle):
    """The assistant's messages from anonymous visitors, per client IP."""

    scope = "assistant_anon"


class AssistantUserThrottle(StaffMemberThrottle):
    """The assistant's messages of a signed-in patient (or anyone signed in), per account."""

    scope = "assistant_user"


def retry_after(throttle: SimpleRateThrottle) -> int:
    """Whole seconds until the refused caller may try again (at least one)."""
    wait = throttle.wait()
    # DRF gives no wait when more requests were counted than a lowered rate allows.
    return max(1, math.ceil(wait)) if wait is not None else 60


def patient_search_wait(request) -> int | None:
    """Counts one patient search by `request.user`, the staff pages' side of the API's
    `PatientSearchThrottle`: None while within the rate, else the seconds to wait."""
    throttle = PatientSearchThrottle()
    # A page has no DRF view to pass, and the throttle's key does not depend on it.
    if throttle.allow_request(request, None):  # type: ignore[arg-type]
        return None
    return retry_after(throttle)
