"""Pages of the clinical records; each part keeps its own list of paths in its views module."""

from django.urls import URLPattern

from clinicflow.clinical.views import consents, consultations, photos, treatments

app_name = "clinical"
urlpatterns: list[URLPattern] = [
    *consultations.paths,
    *consents.paths,
    *photos.paths,
    *treatments.paths,
]
