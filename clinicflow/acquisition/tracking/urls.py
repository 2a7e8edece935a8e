"""The tracking numbers pages, included at /acquisition/numbers/ (namespace "acquisition")."""

from django.urls import path

from clinicflow.acquisition.tracking import views

urlpatterns = [
    path("", views.numbers, name="numbers"),
    path("<str:number_id>/active/", views.number_active, name="number_active"),
]
