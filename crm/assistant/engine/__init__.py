"""The conversation engine: reads a message, keeps the dialogue's state, calls tools.

`Engine` is the interface a backend implements: the embedded one (no network, the default)
and `model.ModelEngine`, an OpenAI-compatible chat-completions model that picks tools
(`model_tools`) behind the same guards and falls back to the embedded engine. A backend
only decides what to say and which tool to call: the tools (`crm.assistant.tools`) do
everything with the caller's permissions, and a slot is booked only after a tool returned it
in this conversation and the patient said "yes" to it.

The package splits by concern: `base` (reply, protocol, labels, offers), `booking`,
`visits` (move, cancel, list), `confirmation`, `answers` (callbacks, knowledge, prices) and
`embedded` (the dispatcher and the guards every engine runs first).
"""

from crm.assistant.engine.base import Engine, Reply, emergency_text, slot_label, visit_label
from crm.assistant.engine.embedded import EmbeddedEngine

__all__ = ["EmbeddedEngine", "Engine", "Reply", "emergency_text", "slot_label", "visit_label"]
