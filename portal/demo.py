"""The demo network's shared context. `manage.py seed_demo` seeds the portal side, then calls
`seed(ctx)` in every installed app's `demo` module, in INSTALLED_APPS order."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "Medfront-demo-2026"  # noqa: S105 - documented demo password
DEMO_LOGINS = {
    "patient": "patient@demo.test",
    "registrar": "registrar@demo.test",
    "nurse": "nurse@demo.test",
    "doctor": "doctor@demo.test",
    "clinicadmin": "clinicadmin@demo.test",
    "marketer": "marketer@demo.test",
    "director": "director@demo.test",
    "netadmin": "netadmin@demo.test",
}


@dataclass
class DemoContext:
    clinics: dict[str, Any]
    patients: list[Any]
    users: dict[str, Any]
    rng: random.Random
    today: datetime.date
    stdout: Any
    extra: dict[str, Any] = field(default_factory=dict)
    # Added by the portal seeder; later seeders may read them.
    legal_entities: dict[str, Any] = field(default_factory=dict)
    demo_patient: Any = None
    dependants: list[Any] = field(default_factory=list)
    patient_count: int = 320
    seed: int = 2026

    def log(self, text: str) -> None:
        self.stdout.write(text)
