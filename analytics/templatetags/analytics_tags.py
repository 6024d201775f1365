from typing import Any

from django import template

from analytics.formatting import format_value

register = template.Library()


@register.filter
def cell(row: dict[str, Any], column: Any) -> str:
    """A table cell's text; a missing share reads as a dash, not as zero."""
    value = row.get(column.key)
    if column.kind == "text":
        return "" if value is None else str(value)
    if value is None:
        return "—"
    return format_value(value, column.kind)


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
