"""Public (no login) paths of the imports app, mounted at the site root."""

from django.urls import URLPattern, URLResolver, path

from clinicflow.imports.yclients.views import yclients_webhook

urlpatterns: list[URLPattern | URLResolver] = [
    path("hooks/yclients/<str:secret>", yclients_webhook, name="yclients_webhook"),
]
