"""Type aliases for the people the portal's services and selectors act for."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from portal.models import User

# Whoever sent a request: a login, or Django's AnonymousUser when nobody is signed in.
# Permission checks refuse the anonymous one, so selectors take either.
RequestUser: TypeAlias = User | AnonymousUser
# Who makes a change: a request's user, or None when the system itself acts (tasks, commands).
Actor: TypeAlias = User | AnonymousUser | None


class HtmxRequest(HttpRequest):
    """A request passed through django-htmx's middleware, as its documentation types it."""

    htmx: HtmxDetails
