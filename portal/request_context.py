"""Who is acting and from where, for the audit trail, without threading `request` everywhere."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "medfront_request_context", default=None
)


def client_ip(request) -> str | None:
    """The client address; X-Forwarded-For is trusted only behind TRUSTED_PROXY_COUNT proxies."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def context_from_request(request) -> RequestContext:
    return RequestContext(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        request_id=request.META.get("HTTP_X_REQUEST_ID", "")[:36] or str(uuid.uuid4()),
    )


def set_current(ctx: RequestContext) -> contextvars.Token:
    return _current.set(ctx)


def reset_current(token: contextvars.Token) -> None:
    _current.reset(token)


def current() -> RequestContext:
    return _current.get() or _EMPTY
