"""`manage.py seal_audit_events`: seal the pending audit events now, as the beat does.

For a machine without a beat (the development demo runs Celery eagerly, with no scheduler) and
to catch up after a beat outage, before `verify_audit_chain`.
"""

from django.core.management.base import BaseCommand

from portal.services.audit import audit_seal_pending


class Command(BaseCommand):
    help = "Seal pending audit events into keyed blocks now (what the beat does periodically)."

    def handle(self, *args, **options):
        blocks = 0
        while audit_seal_pending() is not None:
            blocks += 1
        self.stdout.write(f"Sealed {blocks} block(s).")
