"""Pages of the feedback app; each part keeps its own list of paths in its views module."""

from django.urls import URLPattern, URLResolver

from clinicflow.feedback.views import complaints, settings

app_name = "feedback"
urlpatterns: list[URLPattern | URLResolver] = [*complaints.paths, *settings.paths]
