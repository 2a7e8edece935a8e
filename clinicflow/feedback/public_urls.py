"""Public (no login) paths of the feedback app, mounted at the site root."""

from django.urls import URLPattern, URLResolver, path

from clinicflow.feedback.views import public

urlpatterns: list[URLPattern | URLResolver] = [
    path("s/<str:token>/", public.survey_page, name="feedback_survey"),
]
