from django.urls import path

from scheduling.api import catalogue, slots

urlpatterns = [
    path("clinics/", catalogue.ClinicListView.as_view(), name="api-clinics"),
    path("specialties/", catalogue.SpecialtyListView.as_view(), name="api-specialties"),
    path("services/", catalogue.ServiceListView.as_view(), name="api-services"),
    path("doctors/", catalogue.DoctorListView.as_view(), name="api-doctors"),
    path("slots/", slots.SlotListView.as_view(), name="api-slots"),
]
