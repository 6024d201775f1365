from django.urls import path

from portal.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-auth-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("patients/", views.PatientListCreateView.as_view(), name="api-patients"),
    path("patients/search/", views.PatientSearchView.as_view(), name="api-patients-search"),
    path("patients/<uuid:public_id>/", views.PatientCardView.as_view(), name="api-patient"),
]
