"""Log filters that keep personal data and secrets out of the logs.

- `PiiScrubFilter` (every handler of Django's LOGGING, gunicorn's error log): e-mail addresses
  and phone numbers in messages become `[email]` and `[phone]`, and addresses are masked as
  below (`django.server`'s request lines, `django.request`'s "Not Found: <path>").
- `AccessLogMaskFilter` (gunicorn's access log, `config/gunicorn.conf.py`): the same for the
  request line, path, query string, referrer and headers of each access line.

Addresses are masked so: the secret part of a calendar feed, password reset or e-mail
confirmation address becomes `[secret]`; on the routes that take or show personal data
(patient search and cards, account pages, sign-in, admin) the whole query string becomes
`[masked]`; elsewhere every parameter becomes `[masked]` unless it is one of the filters the
public API documents (`SAFE_QUERY_PARAMETERS`), so a phone typed into any address never
reaches a log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from urllib.parse import unquote_plus

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Not inside a longer token: the digits of a UUID or a hex id ("1d889780-7736-…") are no phone.
_PHONE = re.compile(r"(?<![\w-])\+?[78]?[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?![\w]|-\w)")
_TRACEBACKS = logging.Formatter()

MASK = "[masked]"
SECRET = "[secret]"  # noqa: S105 - the placeholder written instead of a secret

# Addresses whose path itself carries a secret: (pattern, replacement).
SECRET_PATHS = (
    (re.compile(r"(/api/v1/calendar-feed/)[^/?#\s\"']+?(\.ics)"), rf"\1{SECRET}\2"),
    (re.compile(r"(/accounts/password/reset/key/)(?!done/)[^/?#\s\"']+"), rf"\1{SECRET}"),
    (re.compile(r"(/accounts/confirm-email/)[^/?#\s\"']+"), rf"\1{SECRET}"),
    # SMS.ru's status callback: the token in its address is its only credential.
    (re.compile(r"(/notifications/sms/smsru/)[^/?#\s\"']+"), rf"\1{SECRET}"),
)
# Routes that take or show personal data: their query strings are masked whole.
SENSITIVE_PREFIXES = (
    "/api/v1/patients",
    "/api/v1/me",
    "/api/v1/auth",
    "/staff/",
    "/me/",
    "/accounts/",
    "/admin/",
    "/fhir/R4/Patient",
    "/notifications/",
)
# Query parameters of the public API and pages whose values are ids, dates or choices.
SAFE_QUERY_PARAMETERS = frozenset(
    {
        "service",
        "doctor",
        "specialty",
        "clinic",
        "channel",
        "start",
        "end",
        "when",
        "status",
        "date",
        "schedule",
        "service-type",
        "actor",
        "page",
        "_count",
        "_format",
    }
)

# An absolute or site-relative address, with its query string if it has one.
_ADDRESS = re.compile(
    r"(?P<origin>https?://[^/\s\"'?#]+)?(?P<path>/[^\s\"'?#]*)(?:\?(?P<query>[^\s\"'#]*))?"
)


def mask_path(path: str) -> str:
    for pattern, replacement in SECRET_PATHS:
        path = pattern.sub(replacement, path)
    return path


def mask_query(path: str, query: str) -> str:
    """`query` (without "?") of a request to `path`, with what may be personal masked: all of
    it on a sensitive route, elsewhere every parameter but the safe ones, name and value (a
    name can be personal too: `?Ivanova`). Safe parameters keep their text as sent."""
    if not query:
        return query
    if path.startswith(SENSITIVE_PREFIXES):
        return MASK
    kept: list[str] = []
    for part in query.split("&"):
        name = unquote_plus(part.partition("=")[0])
        if name in SAFE_QUERY_PARAMETERS:
            kept.append(part)
        elif not kept or kept[-1] != MASK:
            kept.append(MASK)
    return "&".join(kept)


def mask_addresses(text: str) -> str:
    """Every address in `text` with its secrets and personal query values masked."""

    def replace(match: re.Match[str]) -> str:
        path = match.group("path")
        masked = (match.group("origin") or "") + mask_path(path)
        query = match.group("query")
        if query is None:
            return masked
        return f"{masked}?{mask_query(path, query)}"

    return _ADDRESS.sub(replace, text)


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", mask_addresses(text)))


class PiiScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # An exception's text (e.g. a value quoted in a database error) goes to the log with the
        # traceback: format it here, scrubbed; handlers then print `exc_text` as it is.
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(_TRACEBACKS.formatException(record.exc_info))
        return True


# gunicorn's access-log atoms that carry what the client sent (its documented
# `access_log_format` names): request line, path, query, referrer, user agent; and every
# `{header}i`, `{header}o` and `{variable}e`.
_CLIENT_ATOMS = ("r", "U", "f", "a")


class AccessLogMaskFilter(logging.Filter):
    """Masks gunicorn's access-log atoms in place (the record's args are their mapping)."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, MutableMapping):
            return True
        for name, value in list(atoms.items()):
            if not isinstance(value, str):
                continue
            if name == "q":
                atoms[name] = mask_query(str(atoms.get("U", "")), value)
            elif name in _CLIENT_ATOMS or name.startswith("{"):
                atoms[name] = scrub(value)
        return True
