from django.db.models import QuerySet

from portal.models import Clinic


def active_clinics() -> QuerySet[Clinic]:
    return Clinic.objects.filter(is_active=True).select_related("legal_entity")
