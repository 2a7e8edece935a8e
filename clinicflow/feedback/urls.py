"""Pages of the feedback app."""

from django.urls import URLPattern, URLResolver

app_name = "feedback"
urlpatterns: list[URLPattern | URLResolver] = []
