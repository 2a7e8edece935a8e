"""The front desk's web leads, included at /acquisition/leads/ (namespace "acquisition")."""

from django.urls import path

from clinicflow.acquisition.tracking import views

urlpatterns = [
    path("", views.leads, name="leads"),
    path("<str:lead_id>/confirm/", views.lead_confirm, name="lead_confirm"),
    path("<str:lead_id>/dismiss/", views.lead_dismiss, name="lead_dismiss"),
]
