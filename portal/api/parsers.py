"""The API's JSON parser: size, nesting depth and NUL characters checked.

DRF's `JSONParser` reads the whole body and hands it to `json.load`, which recurses once per
nesting level: a body of a few thousand `[` is a `RecursionError` (a 500), and a body of any size
is read into memory. Here the body is read up to `DATA_UPLOAD_MAX_MEMORY_SIZE` (the limit Django
applies to form bodies), its nesting is counted on the raw bytes before parsing, and strings
holding NUL, which PostgreSQL refuses to store, are refused after it. Each is a 400.
"""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string (escapes included), and the brackets that open or close a level.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_OPENING = frozenset(b"[{")


def json_depth(raw: bytes, *, stop_above: int) -> int:
    """How deeply `raw` nests arrays and objects, counted up to `stop_above` + 1."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if match.group()[0] in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > stop_above:
                break
        else:
            depth -= 1
    return deepest


def contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


class LimitedJSONParser(JSONParser):
    """`JSONParser` with the body's size and depth limited and NUL characters refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(
                _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
            )
        max_depth = settings.JSON_MAX_DEPTH
        if json_depth(raw, stop_above=max_depth) > max_depth:
            raise ParseError(
                _("The JSON nests deeper than %(depth)d levels.") % {"depth": max_depth}
            )
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        if contains_nul(data):
            raise ParseError(_("Text in the JSON must not contain NUL characters."))
        return data
