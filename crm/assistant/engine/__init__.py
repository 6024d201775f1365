"""The conversation engine: reads a message, keeps the dialogue's state, calls tools.

`Engine` is the interface a backend implements (the embedded one here; an OpenAI-compatible
chat-completions backend plugs in beside it). A backend only decides what to say and which
tool to call: the tools (`crm.assistant.tools`) do everything with the caller's permissions,
and a slot is booked only after a tool returned it in this conversation and the patient said
"yes" to it.

The package splits by concern: `base` (reply, protocol, labels, offers), `booking`,
`visits` (move, cancel, list), `confirmation`, `answers` (callbacks, knowledge, prices) and
`embedded` (the dispatcher).
"""

from crm.assistant.engine.base import Engine, Reply, emergency_text, slot_label, visit_label
from crm.assistant.engine.embedded import EmbeddedEngine

__all__ = ["EmbeddedEngine", "Engine", "Reply", "emergency_text", "slot_label", "visit_label"]
