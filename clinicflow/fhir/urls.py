"""Pages of the fhir app."""

from django.urls import URLPattern, URLResolver

app_name = "fhir"
urlpatterns: list[URLPattern | URLResolver] = []
