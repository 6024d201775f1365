"""Portal API: token sign-in and the caller's tokens, the caller, and staff patient search,
card and create.

Views stay thin: parse with an input serializer → permission helper → one service or selector →
output serializer. Errors become problem+json in `portal.api.exceptions`.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import permissions
from portal.api import serializers as s
from portal.api.access import public
from portal.api.auth import api_token_obtain
from portal.api.exceptions import Problem, problem_responses
from portal.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from portal.models import ApiToken, Clinic, FamilyLink, User
from portal.request_context import client_ip
from portal.selectors.api_tokens import api_tokens_of
from portal.selectors.patients import (
    patient_duplicates_for_staff,
    patient_search,
    staff_patient_card,
)
from portal.services.api_tokens import api_token_revoke
from portal.services.patients import clean_patient_fields, patient_create
from portal.throttling import PatientSearchThrottle, TokenEndpointThrottle
from portal.types import RequestUser


@public
class TokenView(APIView):
    """Sign in for a new API token (POST), or revoke the token of this request (DELETE)."""

    def _revoking(self) -> bool:
        # Only DELETE needs a signed-in caller; anything else but POST is a plain 405. (The
        # schema generator builds the view without a request.)
        request = getattr(self, "request", None)
        return request is None or request.method == "DELETE"

    def get_authenticators(self):
        # Signing in needs no credentials but the body's; a stale token header must not stop it.
        return super().get_authenticators() if self._revoking() else []

    def get_permissions(self):
        return [IsAuthenticated()] if self._revoking() else [AllowAny()]

    def get_throttles(self):
        # Per client IP, before the per-account lockout: one address trying many accounts.
        return [] if self._revoking() else [TokenEndpointThrottle()]

    @extend_schema(
        operation_id="auth_token_obtain",
        description=(
            "Exchange e-mail, password and (for MFA accounts, required for staff) a one-time "
            "code for a new token. Each sign-in gets its own token (a device in "
            "`/api/v1/auth/tokens/`); it expires after the configured lifetime (shorter for "
            "staff, whose tokens also end after the idle timeout) and is revoked when the "
            "password changes. Failed attempts share the sign-in lockout: 429 with Retry-After."
        ),
        request=s.TokenInput,
        responses={200: s.TokenOutput, **problem_responses(400, 401, 403, 429, 503)},
        auth=[],
    )
    def post(self, request):
        data = s.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = api_token_obtain(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            otp=data.validated_data.get("otp", "").strip(),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        output = {"token": secret, "public_id": token.public_id, "expiry": token.expiry}
        return Response(s.TokenOutput(output).data)

    @extend_schema(
        operation_id="auth_token_revoke_current",
        description="Revoke the token this request is made with (sign out this device).",
        request=None,
        responses={204: None, **problem_responses(400, 401, 403)},
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise Problem(
                status_code=400,
                slug="no-token",
                detail=_("This request was not made with an API token."),
            )
        api_token_revoke(user=request.user, public_id=request.auth.public_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    """The caller's own API tokens: one per sign-in, with when it was last used."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_tokens_list",
        responses={200: s.ApiTokenOutput(many=True), **problem_responses(401, 403)},
    )
    def get(self, request):
        tokens = api_tokens_of(user=request.user)
        current = request.auth.pk if isinstance(request.auth, ApiToken) else None
        return Response(s.ApiTokenOutput(tokens, many=True, context={"current": current}).data)


class TokenDetailView(APIView):
    """One of the caller's API tokens; anyone else's is 404 like an unknown one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_token_revoke",
        request=None,
        responses={204: None, **problem_responses(401, 403, 404)},
    )
    def delete(self, request, public_id):
        if not api_token_revoke(user=request.user, public_id=public_id):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


def _dependant_links(user: RequestUser) -> list[FamilyLink]:
    """The caller's valid links to dependants: `DependantOutput` reads the relation there."""
    if not isinstance(user, User) or not permissions.is_patient(user):
        return []
    today = timezone.localdate()
    return list(
        FamilyLink.objects.filter(guardian=user.patient, dependant__anonymised_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("dependant")
        .order_by("id")
    )


class MeView(APIView):
    """The caller: account, roles, clinic memberships and, for patients, their dependants."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="me", responses={200: s.MeOutput, **problem_responses(401)})
    def get(self, request):
        user = request.user
        me = {
            "public_id": user.public_id,
            "email": user.email,
            "display_name": user.display_name,
            "preferred_language": user.preferred_language,
            "roles": sorted(permissions.user_roles(user)),
            "memberships": permissions.memberships_of(user),
            "patient": user.patient if permissions.is_patient(user) else None,
            "dependants": _dependant_links(user),
        }
        return Response(s.MeOutput(me).data)


SEARCH_IN_URL = _(
    "Patient search takes its criteria in the body of POST /api/v1/patients/search/, never "
    "in the address: addresses end up in access logs, proxies and browser history."
)


class PatientListCreateView(APIView):
    """Staff: creating a profile. Searching here by GET is refused (see `PatientSearchView`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="patients_search_in_url",
        description=(
            "Refused with 400: phones, names and birth dates must not travel in the URL. "
            "Search with `POST /api/v1/patients/search/`."
        ),
        deprecated=True,
        responses=problem_responses(400, 401, 403),
    )
    def get(self, request):
        permissions.require_capability(request.user, "patient.search")
        raise Problem(status_code=400, slug="search-in-url", detail=SEARCH_IN_URL)

    @extend_schema(
        operation_id="patients_create",
        request=s.PatientCreateInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: s.PatientCreateOutput,
            **problem_responses(400, 401, 403, 409, 422),
        },
    )
    @idempotent
    def post(self, request):
        permissions.require_capability(request.user, "patient.create")
        data = s.PatientCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        confirm = values.pop("confirm_duplicates")
        values["home_clinic"] = _home_clinic_for(request.user, values.get("home_clinic"))
        values = {k: v for k, v in values.items() if v is not None or k == "home_clinic"}
        duplicates = _duplicates(request.user, values)
        if duplicates and not confirm:
            raise Problem(
                status_code=409,
                slug="possible-duplicate",
                detail=_(
                    "Profiles with the same phone, e-mail or name and birth date exist. "
                    "Open one of them, or send confirm_duplicates=true to create a new one."
                ),
                extra={"duplicates": s.DuplicateOutput(duplicates, many=True).data},
            )
        patient = patient_create(actor=request.user, **values)
        output = s.PatientCreateOutput(patient, context={"duplicates": duplicates})
        return Response(output.data, status=status.HTTP_201_CREATED)


class PatientSearchView(APIView):
    """Staff: exact blind-index search (audited), criteria in the body."""

    permission_classes = [IsAuthenticated]
    # Searches count per staff member, on the counter the search page uses too.
    throttle_classes = [PatientSearchThrottle]

    @extend_schema(
        operation_id="patients_search",
        description=(
            "Exact search by one key: `phone`, `email`, `name` with `birth_date`, or `q` (the "
            "last four digits of the phone and the surname). Anything else is 400. A POST, so "
            "that no search value appears in an address."
        ),
        request=s.PatientSearchInput,
        responses={200: s.PatientOutput(many=True), **problem_responses(400, 401, 403, 429)},
    )
    def post(self, request):
        permissions.require_capability(request.user, "patient.search")
        data = s.PatientSearchInput(data=request.data)
        data.is_valid(raise_exception=True)
        found = patient_search(user=request.user, **_blank_to_default(data.validated_data))
        return _private(Response(s.PatientOutput(found, many=True).data))


class PatientCardView(APIView):
    """Staff: a patient's card with the family it lists; audited naming every one of them."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="patients_card",
        responses={200: s.PatientCardOutput, **problem_responses(401, 403, 404)},
    )
    def get(self, request, public_id):
        card = staff_patient_card(user=request.user, public_id=public_id, with_audit_trail=False)
        return _private(Response(s.PatientCardOutput(card).data))


def _private(response: Response) -> Response:
    # Personal data: no browser or proxy keeps a copy.
    add_never_cache_headers(response)
    return response


def _blank_to_default(values: dict) -> dict:
    return {key: value for key, value in values.items() if value not in ("", None)}


def _home_clinic_for(user, public_id) -> Clinic | None:
    """The requested home clinic, which must be one the caller may create patients in."""
    allowed = permissions.clinics_with(user, "patient.create")
    if public_id is None:
        # A registrar working in exactly one clinic registers patients there by default.
        only = list(allowed[:2])
        return only[0] if len(only) == 1 else None
    clinic = allowed.filter(public_id=public_id).first()
    if clinic is None:
        raise Problem(
            status_code=400,
            detail=_("Choose a clinic you work in."),
            extra={"errors": {"home_clinic": [str(_("Choose a clinic you work in."))]}},
        )
    return clinic


def _duplicates(user, values: dict) -> list:
    # Normalise first so "8 914 ..." and "+7914..." are compared as the same phone.
    cleaned = clean_patient_fields({k: v for k, v in values.items() if k != "home_clinic"})
    # Showing possible duplicates lists patients, so it is audited like a search.
    return patient_duplicates_for_staff(
        user=user,
        phone=cleaned.get("phone", ""),
        email=cleaned.get("email", ""),
        last_name=cleaned.get("last_name", ""),
        first_name=cleaned.get("first_name", ""),
        birth_date=cleaned.get("birth_date"),
    )
