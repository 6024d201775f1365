from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an `Idempotency-Key`, kept for replay (24 h).

    Scoped to (user, route, key). `request_hash` detects the same key reused with another body
    (422); `state="running"` answers a concurrent replay with 409.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    user_id = models.BigIntegerField()
    route = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        constraints = [
            models.UniqueConstraint(fields=["user_id", "route", "key"], name="idempotency_unique")
        ]

    def __str__(self):
        return f"{self.route} {self.key} ({self.state})"
