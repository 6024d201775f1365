from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedJSONField


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an `Idempotency-Key`, kept for replay (24 h).

    Scoped to (user, route, key). `request_hash` detects the same key reused with another body
    (422); `state="running"` answers a concurrent replay with 409.

    Nothing here reads back as personal data: the client's key (which may be any text) and
    the body are kept as keyed digests (HMAC with BLIND_INDEX_KEY), and the stored answer,
    a patient's profile for instance, is encrypted like the profile itself.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    user_id = models.BigIntegerField(_("user id"))
    route = models.CharField(_("route"), max_length=200)
    key_digest = models.CharField(_("key digest"), max_length=64)
    request_hash = models.CharField(_("request digest"), max_length=64)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.RUNNING
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    # Null while the request runs; the field's type hints know no None (django-stubs wants
    # them optional on a nullable field), a narrow hint rather than a wrong column.
    response_body = EncryptedJSONField(_("response body"), null=True, blank=True)  # type: ignore[misc]
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "route", "key_digest"], name="idempotency_unique"
            )
        ]

    def __str__(self):
        return f"{self.route} ({self.state})"
