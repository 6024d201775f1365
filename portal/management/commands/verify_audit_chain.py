"""`manage.py verify_audit_chain`: check the audit trail; exit 1 on any finding.

Recomputes every seal with its key, compares the seals with the sink outside the database
(`AUDIT_SEAL_SINK_FILE`, or the files given with --sink: a sink file or an exported log of
`medfront.audit.seals`) and reports events waiting for a seal longer than the beat allows.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.audit_sink import sink_read
from portal.selectors.audit_chain import ChainVerification, audit_verify_chain

# Findings printed one per line; the rest are counted.
MAX_LISTED = 50


class Command(BaseCommand):
    help = (
        "Verify the audit trail: the keyed seal chain, the seal heads in the sink outside the "
        "database, and events left unsealed too long. Exits 1 on any finding."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sink",
            action="append",
            default=[],
            metavar="PATH",
            help="A sink file or exported log of seal heads (repeatable; several hosts' files "
            "together). Default: AUDIT_SEAL_SINK_FILE.",
        )

    def handle(self, *args, **options):
        paths = options["sink"] or (
            [settings.AUDIT_SEAL_SINK_FILE] if settings.AUDIT_SEAL_SINK_FILE else []
        )
        result = audit_verify_chain(sink=sink_read(paths) if paths else None)
        summary = self._summary(result, sinks=len(paths))
        if not result.ok:
            for problem in result.problems[:MAX_LISTED]:
                self.stderr.write(f"- {problem}")
            if len(result.problems) > MAX_LISTED:
                self.stderr.write(f"- ... and {len(result.problems) - MAX_LISTED} more")
            raise CommandError(
                f"Audit chain BROKEN: {len(result.problems)} finding(s), the first: "
                f"{result.problem}. {summary}"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain OK: {summary}"))
        if result.late_event_ids:
            ids = ", ".join(str(i) for i in result.late_event_ids[:20])
            self.stdout.write(f"Late events (committed after their range was sealed): {ids}")

    def _summary(self, result: ChainVerification, *, sinks: int) -> str:
        text = (
            f"{result.seals_checked} seals, {result.events_checked} sealed events, "
            f"{result.unsealed_events} not yet sealed, "
            f"{len(result.late_event_ids)} late events awaiting the next seal"
        )
        if result.legacy_seals:
            text += f"; {result.legacy_seals} unkeyed legacy seals"
        if result.sink_checked:
            text += f"; {result.sink_heads} seal heads in {sinks} sink file(s)"
            if result.seals_before_sink:
                text += f", {result.seals_before_sink} seals older than the sink"
        else:
            text += "; no sink file compared (set AUDIT_SEAL_SINK_FILE or pass --sink)"
        return text + "."
