"""Public (no login) paths of the marketing app (unsubscribe, offer links), mounted at the site root."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
