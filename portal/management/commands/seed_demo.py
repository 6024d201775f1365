"""`manage.py seed_demo`: the demo network, idempotently.

The portal side is seeded first (`portal.services.demo_seed.seed_portal`), then every other
project app's `demo.seed(ctx)` in INSTALLED_APPS order. Each step finds what a previous run
created, so a second run writes nothing.
"""

from __future__ import annotations

import importlib
import io
import random
import time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.choices import Role
from portal.demo import DEMO_LOGINS, DEMO_PASSWORD, DemoContext
from portal.models import StaffMembership
from portal.services.demo_seed import seed_portal

MAX_PATIENTS = 20_000


class Command(BaseCommand):
    help = "Create the demo clinic network and its logins (idempotent; DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (never in production)."
        )
        parser.add_argument(
            "--patients", type=int, default=320, help="Generated patients (default 320)."
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed, for a reproducible network."
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the table of demo logins."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                _(
                    "seed_demo creates logins with a published password, so it runs only with "
                    "DEBUG on. Use --force to seed anyway (never on a production database)."
                )
            )
        count = options["patients"]
        if not 0 <= count <= MAX_PATIENTS:
            raise CommandError(
                _("--patients must be between 0 and %(max)d.") % {"max": MAX_PATIENTS}
            )
        started = time.monotonic()
        ctx = DemoContext(
            clinics={},
            patients=[],
            users={},
            rng=random.Random(options["seed"]),
            today=timezone.localdate(),
            stdout=io.StringIO() if options["quiet"] else self.stdout,
            patient_count=count,
            seed=options["seed"],
        )
        self._step(ctx, "portal", lambda: seed_portal(ctx))
        for label, seed in _app_seeders():
            # Each app draws from its own stream, so its data does not depend on how much
            # randomness earlier apps used (they use none on a second run).
            ctx.rng.seed(f"{options['seed']}:{label}")
            self._step(ctx, label, lambda seed=seed: seed(ctx))
        ctx.log(f"seed_demo: done in {time.monotonic() - started:.1f} s")
        self._print_logins(ctx)

    def _step(self, ctx: DemoContext, label: str, run) -> None:
        started = time.monotonic()
        with transaction.atomic():
            run()
        ctx.log(f"{label}: seeded in {time.monotonic() - started:.1f} s")

    def _print_logins(self, ctx: DemoContext) -> None:
        memberships: dict[int, list[StaffMembership]] = {}
        users = list(ctx.users.values())
        for membership in StaffMembership.objects.filter(user__in=users).select_related("clinic"):
            memberships.setdefault(membership.user_id, []).append(membership)
        rows = []
        for key, email in DEMO_LOGINS.items():
            user = ctx.users[key]
            if key == "patient":
                role = _("patient with %(count)d dependants") % {"count": len(ctx.dependants)}
                where = ctx.demo_patient.home_clinic.name if ctx.demo_patient else ""
            else:
                mine = sorted(memberships.get(user.pk, []), key=lambda m: m.pk)
                role = ", ".join(sorted({str(Role(m.role).label) for m in mine}))
                where = ", ".join(
                    m.clinic.name if m.clinic else str(_("whole network")) for m in mine
                )
            rows.append((email, role, where))
        headers = (_("Email"), _("Role"), _("Clinic"))
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(3)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        out = self.stdout
        out.write("")
        out.write(self.style.MIGRATE_HEADING(_("Demo logins")))
        for row in [headers, tuple("-" * w for w in widths), *rows]:
            out.write(line.format(*row).rstrip())
        out.write("")
        out.write(_("Password for every demo login: %(password)s") % {"password": DEMO_PASSWORD})
        out.write(_("Open %(url)s") % {"url": settings.SITE_URL})


def _app_seeders():
    """(label, seed) of every project app after portal that ships a `demo` module."""
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        # Only the project's own apps: a third-party package's `demo` module is not ours.
        if config.name == "portal" or Path(config.path).resolve().parent != base:
            continue
        module_name = f"{config.name}.demo"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise  # a broken import inside the app's demo module must not pass silently
            continue
        seed = getattr(module, "seed", None)
        if callable(seed):
            yield config.label, seed
