"""`manage.py reindex_patients`: recompute every patient's blind indexes.

Run it after a new BLIND_INDEX_KEY (searches find nobody until it has run) or when the
normalisation of phones, e-mails or names changed without a data migration that ran it.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from portal.management.commands.rotate_encryption_keys import ProgressOutput
from portal.models import Patient
from portal.services.blind_indexes import blind_indexes_refresh


class Command(BaseCommand):
    help = "Recompute the blind indexes (phone, e-mail, name + birth date) of every patient."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        with tqdm(
            total=Patient._base_manager.count(),
            desc="patients",
            unit="row",
            disable=no_progress,
            file=ProgressOutput(self.stderr),
        ) as bar:
            changed = blind_indexes_refresh(batch_size=batch_size, on_batch=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Re-indexed: {changed} patients changed."))
