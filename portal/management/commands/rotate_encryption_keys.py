"""`manage.py rotate_encryption_keys`: re-encrypt every encrypted column under the newest key.

Put the new key first in FIELD_ENCRYPTION_KEYS (old ones after it), run this, then drop the old
keys. Re-runs resume from per-model checkpoints and skip values already under the newest key.
Authenticator secrets (allauth's MFA data, encrypted through our MFA adapter) and database
sessions (encrypted with the same keys) are written again at the end.
"""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from portal.services.encryption import (
    encrypted_models,
    encryption_rotate_authenticators,
    encryption_rotate_model,
    encryption_rotate_sessions,
    rotation_start,
)

# Session engines that keep sessions in `django_session`; cache sessions expire on their own.
DATABASE_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


class ProgressOutput:
    """tqdm's file: the command's stderr, written as tqdm sends it. `OutputWrapper.write` would
    end every redraw with a newline and colour it as an error."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def __getattr__(self, name):
        # isatty(), encoding...: the wrapped stream's, as OutputWrapper itself forwards them.
        return getattr(self.wrapper, name)


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the newest key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )
        parser.add_argument(
            "--restart", action="store_true", help="Ignore checkpoints and scan every row again."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args, batch_size, dry_run, restart, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        failures = []
        for model, fields in encrypted_models():
            start = 0 if dry_run else rotation_start(model, restart=restart)
            total = model._base_manager.filter(pk__gt=start).count()
            columns = ", ".join(f.name for f in fields)
            with tqdm(
                total=total,
                desc=model._meta.label,
                unit="row",
                disable=no_progress,
                file=ProgressOutput(self.stderr),
            ) as bar:
                result = encryption_rotate_model(
                    model=model,
                    fields=fields,
                    batch_size=batch_size,
                    dry_run=dry_run,
                    restart=restart or dry_run,
                    on_batch=bar.update,
                )
            verb = "would rotate" if dry_run else "rotated"
            self.stdout.write(
                f"{result.label} ({columns}): {result.rows_seen} rows checked"
                + (f" from pk>{start}" if start else "")
                + f", {verb} {result.values_rotated} values in {result.rows_rotated} rows."
            )
            failures.extend((result.label, name, pk) for name, pk in result.failed)
        if not dry_run:
            # Authenticator secrets sit inside allauth's JSON column, rotated on their own.
            result = encryption_rotate_authenticators(batch_size=batch_size)
            self.stdout.write(
                f"{result.label} (data): {result.rows_seen} rows checked, "
                f"rotated {result.values_rotated} values in {result.rows_rotated} rows."
            )
            failures.extend((result.label, name, pk) for name, pk in result.failed)
        if (
            not dry_run
            and apps.is_installed("django.contrib.sessions")
            and settings.SESSION_ENGINE in DATABASE_SESSION_ENGINES
        ):
            sessions = encryption_rotate_sessions(batch_size=batch_size)
            self.stdout.write(f"sessions: re-encrypted {sessions} live sessions.")
        if failures:
            shown = "; ".join(f"{label}.{name} pk={pk}" for label, name, pk in failures[:20])
            raise CommandError(
                f"{len(failures)} values could not be decrypted with any configured key: {shown}"
            )
        self.stdout.write(self.style.SUCCESS("Dry run finished." if dry_run else "Rotation done."))
