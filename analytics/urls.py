from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("glossary/", views.glossary, name="glossary"),
    path("export/accounting.csv", views.export_accounting, name="export_accounting"),
    path("export/accounting.xml", views.export_accounting_xml, name="export_accounting_xml"),
    path("export/<slug:table>.<slug:fmt>", views.export_table, name="export"),
    path("targets/<uuid:clinic>/", views.targets, name="targets"),
]
