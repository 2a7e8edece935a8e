from django.urls import path

from clinicflow.privacy import views

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
]
