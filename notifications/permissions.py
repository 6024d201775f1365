"""Who may edit which message texts; the capabilities live in `portal.permissions`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from portal.models import Clinic
from portal.permissions import clinic_ids_with, has_capability

NETWORK_SCOPE = "network"


def get_template_scope_for_user(user, scope: str) -> Clinic | None:
    """The clinic whose texts `scope` names (None for `network`, the network's defaults) if
    `user` may edit them (`messages.manage`).

    Staff without the capability get 403; a clinic that is unknown, closed or outside the
    user's clinics is 404; the network's defaults need a network-wide membership (403 for a
    clinic admin, who edits their clinics' own texts instead).
    """
    if not has_capability(user, "messages.manage"):
        raise PermissionDenied
    allowed = clinic_ids_with(user, "messages.manage")
    if scope == NETWORK_SCOPE:
        if allowed is not None:
            raise PermissionDenied
        return None
    if not scope.isdigit():
        raise Http404
    clinic = Clinic.objects.filter(pk=int(scope), is_active=True).first()
    if clinic is None or (allowed is not None and clinic.pk not in allowed):
        raise Http404
    return clinic
