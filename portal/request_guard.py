"""Refuses requests whose address or cookies carry NUL characters or bytes that are not UTF-8.

Django decodes a bad byte in the query string to U+FFFD and re-encodes one in the path as
`%XX`, and lets a NUL through either way; PostgreSQL then refuses the NUL in a query (a 500),
and a replacement character is a value the client never sent. One check for every route,
before any view: the request is a 400 (`BadRequest`), answered by the error handlers in
`config.error_views` as problem+json under `/api/`, an OperationOutcome under `/fhir/` and a
page elsewhere.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from django.core.exceptions import BadRequest

# How Django's WSGI handler writes a path byte that is not UTF-8 (`repercent_broken_unicode`):
# a decoded path of ours never holds a percent sign otherwise.
_REENCODED_BYTE = re.compile(r"%[89A-F][0-9A-F]")


def _query_bytes(query_string: str) -> bytes:
    """PEP 3333 hands the query string over undecoded, as bytes read as latin-1."""
    try:
        raw = query_string.encode("iso-8859-1")
    except UnicodeEncodeError:
        # A server that decoded it already: the text is valid.
        raw = query_string.encode()
    return unquote_to_bytes(raw.replace(b"+", b" "))


def malformed_query(query_string: str) -> bool:
    raw = _query_bytes(query_string)
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def malformed_path(path_info: str) -> bool:
    return "\x00" in path_info or _REENCODED_BYTE.search(path_info) is not None


class MalformedRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if malformed_path(request.path_info):
            raise BadRequest("Malformed path")
        if malformed_query(request.META.get("QUERY_STRING", "")):
            raise BadRequest("Malformed query string")
        if any("\x00" in value for value in request.COOKIES.values()):
            raise BadRequest("Malformed cookie")
        return self.get_response(request)
