"""Which API and FHIR views anonymous callers may use: none, unless marked so on purpose.

Every view keeps DRF's default permission, `IsAuthenticated`, unless it is decorated with
`public`. The route walker (`tests/security/test_route_access.py`) holds the marks to its
table of routes, and fails for a view that lets anonymous callers in without the mark.
"""

from __future__ import annotations

from typing import TypeVar

from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

V = TypeVar("V", bound=type[APIView])


def public(view_class: V) -> V:
    """Open `view_class` to anonymous callers (and mark it so)."""
    view_class.permission_classes = [AllowAny]
    view_class.public = True  # type: ignore[attr-defined]
    return view_class


def is_public(view_class: type) -> bool:
    return getattr(view_class, "public", False) is True
