"""HTTP for connectors: the standard library's client with a timeout on every call and a cap
on what is read, its failures turned into the connector errors of `base`."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .base import BadPayload, ConnectorTimeout, ConnectorUnavailable

MAX_BODY_BYTES = 5 * 1024 * 1024  # a week of slots of a large clinic is well under this


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise BadPayload("not JSON") from exc


def call(
    method: str,
    url: str,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    """The system's answer, whatever its status; `ConnectorTimeout` past `timeout` seconds,
    `ConnectorUnavailable` when it cannot be reached. Only http(s) addresses are called."""
    if not url.startswith(("http://", "https://")):
        raise ConnectorUnavailable("not an http(s) address")
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, _read(response))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, _read(exc))
    except TimeoutError as exc:
        raise ConnectorTimeout("no answer in time") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise ConnectorTimeout("no answer in time") from exc
        raise ConnectorUnavailable("unreachable") from exc
    except (OSError, ValueError) as exc:
        raise ConnectorUnavailable("connection failed") from exc


def _read(response: Any) -> bytes:
    try:
        body = response.read(MAX_BODY_BYTES + 1)
    except TimeoutError as exc:
        raise ConnectorTimeout("no answer in time") from exc
    except OSError as exc:
        raise ConnectorUnavailable("connection failed") from exc
    if len(body) > MAX_BODY_BYTES:
        raise BadPayload("answer too large")
    return body
