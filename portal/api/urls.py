from django.urls import path

from portal.api import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-auth-token"),
    path("auth/tokens/", views.TokenListView.as_view(), name="api-auth-tokens"),
    path(
        "auth/tokens/<uuid:public_id>/",
        views.TokenDetailView.as_view(),
        name="api-auth-token-detail",
    ),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("patients/", views.PatientListCreateView.as_view(), name="api-patients"),
    path("patients/search/", views.PatientSearchView.as_view(), name="api-patients-search"),
    path("patients/<uuid:public_id>/", views.PatientCardView.as_view(), name="api-patient"),
]
