from django.urls import path

from clinicflow.privacy import rights_views, views

app_name = "privacy"
urlpatterns = [
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_create, name="incident_create"),
    path("incidents/<str:incident_id>/", views.incident_detail, name="incident"),
    path("incidents/<str:incident_id>/edit/", views.incident_edit, name="incident_edit"),
    path("incidents/<str:incident_id>/deadline/", views.deadline_done, name="deadline_done"),
    path("incidents/<str:incident_id>/affected/", views.affected_list, name="affected"),
    path("incidents/<str:incident_id>/affected/attach/", views.affected_attach, name="affected_attach"),
    path("incidents/<str:incident_id>/affected.csv", views.affected_csv, name="affected_csv"),
    path("requests/", rights_views.requests_page, name="requests"),
    path("requests/<str:request_id>/", rights_views.request_detail, name="request"),
    path("retention/", rights_views.retention_page, name="retention"),
    path("retention/dry-run/", rights_views.retention_dry_run, name="retention_dry_run"),
]
