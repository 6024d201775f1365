"""Request context for the audit trail, staff idle logout and the staff MFA requirement."""

from __future__ import annotations

from portal import request_context


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ctx = request_context.context_from_request(request)
        request.medfront_context = ctx
        token = request_context.set_current(ctx)
        try:
            return self.get_response(request)
        finally:
            request_context.reset_current(token)


class StaffIdleTimeoutMiddleware:
    """Placeholder until the accounts work lands: passes every request through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


class StaffMfaRequiredMiddleware:
    """Placeholder until the accounts work lands: passes every request through."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
