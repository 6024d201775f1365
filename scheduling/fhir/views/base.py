"""What every FHIR view shares: FHIR JSON in and out, OperationOutcome errors, references."""

from __future__ import annotations

import re
import uuid

from django.http import JsonResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.authentication import (
    MfaEnforcingSessionAuthentication,
    MfaEnforcingTokenAuthentication,
)
from portal.api.exceptions import Problem, problem_exception_handler
from portal.api.integration_auth import IntegrationTokenAuthentication, require_scope
from portal.api.parsers import LimitedJSONParser
from portal.throttling import FhirReadThrottle
from scheduling.fhir import resources as r

FHIR_CONTENT_TYPE = "application/fhir+json"
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
    500: "exception",
}


def issue_code(status_code: int) -> str:
    """The OperationOutcome issue code for an HTTP status."""
    return _ISSUE_CODES.get(status_code, "processing")


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_CONTENT_TYPE
    format = "fhir"


class FhirJSONParser(LimitedJSONParser):
    media_type = FHIR_CONTENT_TYPE


def outcome_response(status_code: int, diagnostics) -> Response:
    body = r.operation_outcome(code=issue_code(status_code), diagnostics=force_str(diagnostics))
    return Response(body, status=status_code, content_type=FHIR_CONTENT_TYPE)


def fhir_exception_handler(exc, context):
    """The REST API's mapping of errors to statuses, answered as an OperationOutcome."""
    problem = problem_exception_handler(exc, context)
    if problem is None:
        return None
    data = problem.data
    diagnostics = data.get("detail", "")
    for field, messages in (data.get("errors") or {}).items():
        diagnostics += f" {field}: {' '.join(messages)}"
    response = outcome_response(problem.status_code, diagnostics.strip())
    for header in ("WWW-Authenticate", "Retry-After"):
        if problem.has_header(header):
            response[header] = problem[header]
    return response


def fhir_not_found(request, *args, **kwargs) -> JsonResponse:
    body = r.operation_outcome(
        code="not-found", diagnostics=force_str(_("There is no FHIR endpoint at this address."))
    )
    return JsonResponse(body, status=404, content_type=FHIR_CONTENT_TYPE)


@extend_schema(exclude=True)
class FhirView(APIView):
    """Base: FHIR JSON in and out, OperationOutcome errors; signed-in callers only unless the
    view is marked `portal.api.access.public`; an integration token only within its scopes."""

    renderer_classes = [FhirJSONRenderer]
    parser_classes = [FhirJSONParser, LimitedJSONParser]
    throttle_classes = [FhirReadThrottle]
    # Integration tokens (Bearer) first; then the REST API's sign-ins (knox tokens, sessions).
    authentication_classes = [
        IntegrationTokenAuthentication,
        MfaEnforcingTokenAuthentication,
        MfaEnforcingSessionAuthentication,
    ]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        require_scope(request)

    def get_exception_handler(self):
        return fhir_exception_handler

    def perform_content_negotiation(self, request, force=False):
        # Clients send Accept: application/json, application/fhir+json or */*: all get FHIR JSON.
        renderer = self.renderer_classes[0]()
        return renderer, renderer.media_type

    def search_url(self, request) -> str:
        return request.build_absolute_uri()

    def searchset(self, request, items: list) -> Response:
        return Response(r.bundle(items, self_url=self.search_url(request)))


def not_found(what) -> Problem:
    return Problem(status_code=404, detail=_("%(what)s was not found.") % {"what": what})


def bad_param(name: str, message) -> Problem:
    return Problem(status_code=400, detail=message, extra={"errors": {name: [str(message)]}})


def reference_id(value: str, resource_type: str) -> str:
    """`Type/id`, a full URL ending in it, or a bare id → id."""
    value = (value or "").strip()
    match = re.search(rf"(?:^|/){resource_type}/([A-Za-z0-9\-.]{{1,64}})$", value)
    if match:
        return match.group(1)
    if re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", value):
        return value
    raise bad_param(
        resource_type, _("Give a reference like %(type)s/<id>.") % {"type": resource_type}
    )


def referenced_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise not_found(_("The referenced resource")) from exc


def get_by_public_id(qs, resource_id, what):
    try:
        return qs.get(public_id=uuid.UUID(resource_id))
    except (qs.model.DoesNotExist, ValueError) as exc:
        raise not_found(what) from exc
