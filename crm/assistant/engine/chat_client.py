"""An OpenAI-compatible chat-completions client: one POST to `<base>/chat/completions` with
tools, the answer's first message back. The standard library's client (like the SMS and
Telegram senders): a timeout on every call, a cap on what is read, and every failure one
`BackendFailure` whose `kind` is safe to log (never the texts)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 1024 * 1024


class BackendFailure(Exception):
    """The model could not be asked or answered with nothing usable."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ModelMessage:
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)

    def as_history(self) -> dict[str, Any]:
        """The message as it goes back to the model in the next request."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self.tool_calls
            ]
        return message


@dataclass(frozen=True)
class ChatClient:
    base_url: str
    model: str
    api_key: str
    timeout: float

    def complete(
        self, *, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> ModelMessage:
        if not self.base_url.startswith(("http://", "https://")):
            raise BackendFailure("bad_url")
        body = json.dumps(
            {
                "model": self.model,
                "messages": messages,
                "tools": tools,
                "tool_choice": "auto",
                "temperature": 0,
            }
        ).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            f"{self.base_url}/chat/completions", data=body, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(MAX_BODY_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise BackendFailure(f"http_{exc.code}") from exc
        except TimeoutError as exc:
            raise BackendFailure("timeout") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise BackendFailure("timeout") from exc
            raise BackendFailure("unreachable") from exc
        except (OSError, ValueError) as exc:
            raise BackendFailure("connection") from exc
        if len(raw) > MAX_BODY_BYTES:
            raise BackendFailure("too_large")
        return parse_answer(raw)


def parse_answer(raw: bytes) -> ModelMessage:
    """The first choice's message; `BackendFailure("bad_answer")` for anything else."""
    try:
        message = json.loads(raw)["choices"][0]["message"]
        calls = [
            ToolCall(
                id=str(call.get("id") or f"call_{index}"),
                name=str(call["function"]["name"]),
                arguments=call["function"].get("arguments") or "{}",
            )
            for index, call in enumerate(message.get("tool_calls") or [])
        ]
        content = message.get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise BackendFailure("bad_answer") from exc
    if not isinstance(content, str) or not all(isinstance(c.arguments, str) for c in calls):
        raise BackendFailure("bad_answer")
    if not content.strip() and not calls:
        raise BackendFailure("empty_answer")
    return ModelMessage(content=content.strip(), tool_calls=calls)
