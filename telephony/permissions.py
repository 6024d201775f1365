"""Who reaches which calls: holders of `telephony.answer`, in the clinics they hold it in.

Lookups raise 403 for users without the capability anywhere (patients, other roles) and 404
for a call or callback of another clinic or one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from portal import permissions
from telephony.models import Call, CallbackRequest

CAPABILITY = "telephony.answer"


def answer_clinic_ids(user: Any) -> set[int] | None:
    """Clinics whose lines `user` answers; None: every clinic (network-wide role)."""
    return permissions.clinic_ids_with(user, CAPABILITY)


def require_answerer(user: Any) -> None:
    permissions.require_capability(user, CAPABILITY)


def calls_visible_to(user: Any) -> QuerySet[Call]:
    ids = answer_clinic_ids(user)
    qs = Call.objects.all()
    return qs if ids is None else qs.filter(line__clinic_id__in=ids)


def callbacks_visible_to(user: Any) -> QuerySet[CallbackRequest]:
    ids = answer_clinic_ids(user)
    qs = CallbackRequest.objects.all()
    return qs if ids is None else qs.filter(clinic_id__in=ids)


def _one(qs: QuerySet[Any], public_id: Any) -> Any:
    try:
        return qs.get(public_id=public_id)
    except (qs.model.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_call_for_user(user: Any, public_id: Any) -> Call:
    require_answerer(user)
    return _one(calls_visible_to(user).select_related("line__clinic"), public_id)


def get_callback_for_user(user: Any, public_id: Any) -> CallbackRequest:
    require_answerer(user)
    return _one(callbacks_visible_to(user), public_id)
