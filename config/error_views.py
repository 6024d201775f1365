"""The site's error answers (`handler400`, `handler403`, `handler404`, `handler500`, the CSRF
failure view), chosen by address: problem+json under `/api/`, an OperationOutcome under
`/fhir/`, and a page of the site's layout elsewhere.

DRF answers the errors of its own views; these handlers answer everything else: a request
refused before any view ran (`portal.request_guard`, Django's body limits), an address no route
matches, and any unhandled exception. A 500 never carries details: Django's `django.request`
logger has already recorded the traceback (scrubbed by `portal.logging.PiiScrubFilter`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from portal.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body
from scheduling.fhir.resources import operation_outcome
from scheduling.fhir.views.base import FHIR_CONTENT_TYPE, issue_code

API_PREFIX = "/api/"
FHIR_PREFIX = "/fhir/"


def _machine_answer(request, status: int, detail: str) -> HttpResponse | None:
    """problem+json or an OperationOutcome for API and FHIR addresses, else None."""
    path = request.path
    if path.startswith(API_PREFIX):
        body = problem_body(status_code=status, detail=detail, instance=path)
        return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    if path.startswith(FHIR_PREFIX):
        body = operation_outcome(code=issue_code(status), diagnostics=detail)
        return JsonResponse(body, status=status, content_type=FHIR_CONTENT_TYPE)
    return None


def _minimal_page(template_name: str, status: int) -> HttpResponse:
    """A page rendered without the request: no context processor runs, so nothing that may
    have failed (the database, the session) is touched again, and nothing from a malformed
    request is echoed."""
    return HttpResponse(
        loader.render_to_string(
            template_name, {"minimal": True, "network_name": settings.NETWORK_NAME}
        ),
        status=status,
    )


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        # Django refuses the body before any parser reads it (`DATA_UPLOAD_MAX_MEMORY_SIZE`).
        detail = _("The request body is larger than %(limit)d bytes.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
    else:
        detail = _("The request is malformed: check the address, its parameters and the body.")
    return _machine_answer(request, 400, detail) or _minimal_page("400.html", 400)


def permission_denied(request, exception=None):
    detail = _("Your role does not allow this.")
    answer = _machine_answer(request, 403, detail)
    return answer or render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    detail = _("Nothing was found here, or it is not yours to see.")
    answer = _machine_answer(request, 404, detail)
    return answer or render(request, "404.html", status=404)


def server_error(request):
    detail = _("Something went wrong on our side. The error was logged; please try again later.")
    return _machine_answer(request, 500, detail) or _minimal_page("500.html", 500)


def csrf_failure(request, reason=""):
    """`CSRF_FAILURE_VIEW`: the form was open too long, or cookies are off."""
    detail = _("The form expired or cookies are blocked. Reload the page and try again.")
    answer = _machine_answer(request, 403, detail)
    return answer or render(request, "403_csrf.html", status=403)
