"""The integrations pages, included at /acquisition/integrations/ (namespace "acquisition")."""

from django.urls import path

from clinicflow.acquisition.integrations import views

urlpatterns = [
    path("", views.integrations, name="integrations"),
    path("tracking/", views.tracking_settings, name="tracking_settings"),
    path("dead-letters/", views.dead_letters, name="dead_letters"),
    path("dead-letters/<str:event_id>/", views.dead_letter_detail, name="dead_letter_detail"),
    path("dead-letters/<str:event_id>/replay/", views.dead_letter_replay, name="dead_letter_replay"),
    path("dead-letters/<str:event_id>/discard/", views.dead_letter_discard, name="dead_letter_discard"),
    path("<str:integration_id>/disable/", views.integration_disable, name="integration_disable"),
]
