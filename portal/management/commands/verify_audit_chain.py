"""`manage.py verify_audit_chain`: recompute every sealed block; exit 1 at the first break."""

from django.core.management.base import BaseCommand, CommandError

from portal.selectors.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken link."

    def handle(self, *args, **options):
        result = audit_verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN: {result.problem} "
                f"({result.seals_checked} seals checked before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain OK: {result.seals_checked} seals, {result.events_checked} sealed "
                f"events, {result.unsealed_events} not yet sealed, "
                f"{len(result.late_event_ids)} late events awaiting the next seal."
            )
        )
        if result.late_event_ids:
            ids = ", ".join(str(i) for i in result.late_event_ids[:20])
            self.stdout.write(f"Late events (committed after their range was sealed): {ids}")
