from django.conf import settings
from django.db import models


class BenchRow(models.Model):
    """One row written by the insert baseline: the cheapest authenticated write there is."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    value = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"bench row {self.pk}"
