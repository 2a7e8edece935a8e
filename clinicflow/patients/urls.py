from django.urls import path

from clinicflow.patients import emergency, views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<str:patient_id>/", views.patient_detail, name="detail"),
    path("<str:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<str:patient_id>/consents/", views.consent_add, name="consent_add"),
    path("<str:patient_id>/merge/", views.patient_merge, name="merge"),
    path("<str:patient_id>/emergency/", emergency.emergency_access, name="emergency"),
]
