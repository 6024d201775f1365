import datetime
from typing import Any

from django import template
from django.utils import timezone

from analytics.selectors.dashboard import RETENTION_DAYS
from analytics.selectors.scope import Scope

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.simple_tag
def cohort_too_recent(scope: Scope) -> bool:
    """Whether every day of `scope`'s period is under 90 days ago, so no patient first seen in
    it has had their 90 days yet: the retention tile has nothing to count (a reason to say)."""
    return scope.first > timezone.now().date() - datetime.timedelta(days=RETENTION_DAYS)
