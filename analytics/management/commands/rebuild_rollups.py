import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from analytics.services.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the analytics rollups (every day, or the days from --since on)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="First local date to rebuild, YYYY-MM-DD.")

    def handle(self, *args, **options):
        since = None
        if options["since"]:
            try:
                since = datetime.date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError(_("--since must be a date, YYYY-MM-DD.")) from exc
        result = rollups_rebuild(since=since)
        self.stdout.write(
            _("Rollups rebuilt: %(pairs)d clinic days, %(patients)d patients.")
            % {"pairs": result.pairs, "patients": result.patients}
        )
