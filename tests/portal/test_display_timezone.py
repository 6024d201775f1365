import zoneinfo

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from portal.choices import Role
from portal.middleware import DisplayTimezoneMiddleware, display_timezone_for
from tests.factories import StaffMembershipFactory, make_staff

pytestmark = pytest.mark.django_db


@override_settings(DISPLAY_TIME_ZONE="Europe/Moscow")
def test_anonymous_visitors_read_the_network_zone():
    from django.contrib.auth.models import AnonymousUser

    assert display_timezone_for(AnonymousUser()) == "Europe/Moscow"


def test_a_patient_reads_the_zone_of_their_home_clinic(patient, clinic_a):
    patient.home_clinic = clinic_a
    patient.save(update_fields=["home_clinic"])
    assert display_timezone_for(patient.user) == "Asia/Irkutsk"


@override_settings(DISPLAY_TIME_ZONE="Europe/Moscow")
def test_a_patient_without_a_home_clinic_reads_the_network_zone(patient):
    assert display_timezone_for(patient.user) == "Europe/Moscow"


def test_staff_of_one_clinic_read_that_clinic_zone(registrar_b):
    assert display_timezone_for(registrar_b) == "Europe/Moscow"


@override_settings(DISPLAY_TIME_ZONE="Asia/Irkutsk")
def test_staff_of_several_clinics_and_network_roles_read_the_network_zone(
    registrar_a, clinic_b, director
):
    StaffMembershipFactory(user=registrar_a, role=Role.REGISTRAR, clinic=clinic_b)
    registrar_a.__dict__.pop("_medfront_memberships", None)
    assert display_timezone_for(registrar_a) == "Asia/Irkutsk"
    assert display_timezone_for(director) == "Asia/Irkutsk"


def test_the_middleware_activates_the_zone_for_the_request_only(clinic_a):
    staff = make_staff(Role.DOCTOR, clinic_a)
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone()
        return "response"

    request = RequestFactory().get("/")
    request.user = staff
    assert DisplayTimezoneMiddleware(view)(request) == "response"
    assert seen["zone"] == zoneinfo.ZoneInfo("Asia/Irkutsk")
    assert timezone.get_current_timezone_name() == "UTC"
