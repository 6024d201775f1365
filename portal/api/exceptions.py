"""RFC 9457 problem details for every 4xx under `/api/`.

One exception handler (`REST_FRAMEWORK["EXCEPTION_HANDLER"]`) turns DRF errors, Django's
`ValidationError`, `Http404` and `PermissionDenied`, and registered domain errors into
`application/problem+json` with `type`, `title`, `status`, a human `detail` and, for 400, the
per-field `errors`. Apps to the right of `portal` (scheduling) register their domain errors with
`register_domain_error`, so this module never imports them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:medfront:problem:"
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY

# Titles are short and stable per kind; `detail` says what happened this time.
_TITLES = {
    400: _("Invalid input"),
    401: _("Not authenticated"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    415: _("Unsupported media type"),
    422: _("Booking rule broken"),
    429: _("Too many requests"),
}
_SLUGS = {
    400: "invalid-input",
    401: "not-authenticated",
    403: "not-allowed",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    415: "unsupported-media-type",
    422: "rule-broken",
    429: "too-many-requests",
}


class Problem(exceptions.APIException):
    """An API error with an explicit status, slug and human detail (and optional extras)."""

    def __init__(
        self,
        *,
        status_code: int,
        detail: StrOrPromise,
        slug: str | None = None,
        title: StrOrPromise | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=detail)
        self.status_code = status_code
        self.slug = slug or _SLUGS.get(status_code, "error")
        self.title = title
        self.extra = dict(extra or {})


@dataclass(frozen=True)
class DomainErrorMapping:
    status: int | None
    slug: str | None
    title: Any = None


_DOMAIN_ERRORS: dict[type[BaseException], DomainErrorMapping] = {}


def register_domain_error(
    exc_class: type[BaseException],
    *,
    status_code: int | None = None,
    slug: str | None = None,
    title: Any = None,
) -> None:
    """Map a domain exception class (and its subclasses) to a problem status and type.

    Without `status_code` / `slug` they come from the raised error's `http_status` and `code`
    attributes, so a new subclass with its own status needs no registration of its own.
    """
    _DOMAIN_ERRORS[exc_class] = DomainErrorMapping(status_code, slug, title)


def _domain_mapping(exc: BaseException) -> DomainErrorMapping | None:
    for klass in type(exc).__mro__:
        if klass in _DOMAIN_ERRORS:
            return _DOMAIN_ERRORS[klass]
    return None


def problem_body(
    *,
    status_code: int,
    detail: Any,
    slug: str | None = None,
    title: Any = None,
    errors: Mapping[str, list[str]] | None = None,
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or _SLUGS.get(status_code, "error")),
        "title": force_str(title or _TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": force_str(detail),
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = {key: [force_str(m) for m in msgs] for key, msgs in errors.items()}
    if extra:
        body.update(extra)
    return body


def problem_response(status_code: int, detail: Any, **kwargs) -> Response:
    return Response(
        problem_body(status_code=status_code, detail=detail, **kwargs),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure → {"field" or "parent.child" or "items.0.x": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = NON_FIELD if key in ("__all__", NON_FIELD) else str(key)
            for sub, msgs in flatten_errors(value, f"{prefix}.{name}" if prefix else name).items():
                out.setdefault(sub, []).extend(msgs)
    elif isinstance(data, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in data):
            out[prefix or NON_FIELD] = [force_str(item) for item in data]
        else:
            for index, item in enumerate(data):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or NON_FIELD] = [force_str(data)]
    return out


def _validation_detail(errors: Mapping[str, list[str]]) -> str:
    fields = [name for name in errors if name != NON_FIELD]
    if not fields:
        messages = errors.get(NON_FIELD) or []
        return messages[0] if messages else gettext("The request is not valid.")
    return gettext("Check these fields: %(fields)s.") % {"fields": ", ".join(fields)}


def django_validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return flatten_errors(exc.message_dict)
    return {NON_FIELD: [force_str(m) for m in exc.messages]}


def problem_exception_handler(exc, context) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error becomes problem+json."""
    request = context.get("request") if context else None
    instance = request.path if request is not None else None

    mapping = _domain_mapping(exc)
    if mapping is not None:
        code = mapping.status or int(getattr(exc, "http_status", 422))
        # The problem type names the kind (class); `code` says which rule, e.g. "min_notice".
        slug = mapping.slug or str(getattr(type(exc), "code", "")).replace("_", "-") or None
        extra = dict(getattr(exc, "problem_extra", None) or {})
        if getattr(exc, "code", None):
            extra["code"] = str(exc.code)
        detail = _domain_detail(exc)
        errors = None
        if code == 400:
            field = (getattr(exc, "params", None) or {}).get("field") or NON_FIELD
            errors = {str(field): [detail]}
        return problem_response(
            code,
            detail,
            slug=slug,
            title=mapping.title,
            errors=errors,
            instance=instance,
            extra=extra,
        )
    if isinstance(exc, DjangoValidationError):
        errors = django_validation_errors(exc)
        return problem_response(400, _validation_detail(errors), errors=errors, instance=instance)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Nothing was found here, or it is not yours to see."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(_("Your role does not allow this."))
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    # As DRF's own handler reads them: DRF's view sets `auth_header` on authentication errors
    # and Throttled carries `wait`; neither is declared on APIException.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        # Rounded up: "0" would invite an immediate retry that is refused again.
        headers["Retry-After"] = str(math.ceil(wait))

    code = exc.status_code
    if isinstance(exc, Problem):
        response = problem_response(
            code, exc.detail, slug=exc.slug, title=exc.title, instance=instance, extra=exc.extra
        )
    elif isinstance(exc, exceptions.ValidationError) or code == status.HTTP_400_BAD_REQUEST:
        if isinstance(exc, exceptions.ParseError):
            errors = {NON_FIELD: [force_str(exc.detail)]}
        else:
            errors = flatten_errors(exc.detail)
        response = problem_response(
            400, _validation_detail(errors), errors=errors, instance=instance
        )
    else:
        response = problem_response(code, _plain_detail(exc.detail), instance=instance)
    for name, value in headers.items():
        response[name] = value
    return response


def _plain_detail(detail: Any) -> str:
    if isinstance(detail, list | tuple) and detail:
        return force_str(detail[0])
    if isinstance(detail, dict) and detail:
        return force_str(next(iter(detail.values())))
    return force_str(detail)


def _domain_detail(exc: BaseException) -> str:
    """Domain errors carry a translated message as their first argument, or a class default."""
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else None)
    if message:
        text = force_str(message)
        params = getattr(exc, "params", None)
        if params and "%(" in text:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                text = text % {k: force_str(v) for k, v in params.items()}
        return text
    return force_str(getattr(type(exc), "default_message", None) or _("The request was refused."))


def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Catch-all for unknown URLs under `/api/`: a problem+json 404 instead of an HTML page."""
    body = problem_body(
        status_code=404,
        detail=_("There is no API endpoint at this address."),
        instance=request.path,
    )
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, as every 4xx under `/api/` answers (schema only)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    # DRF's serializer metaclass moves declared fields out of the class, so this field does not
    # shadow Serializer.errors at run time; the stubs cannot see that.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages (400 only).",
    )


def problem_responses(*codes: int) -> dict:
    """drf-spectacular `responses` entries for the given problem statuses."""
    from drf_spectacular.utils import OpenApiResponse

    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=force_str(_TITLES.get(code, ""))
        )
        for code in codes
    }
