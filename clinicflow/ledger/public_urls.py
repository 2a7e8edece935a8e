"""Public (no login) paths of the ledger app, mounted at the site root."""

from django.urls import URLPattern, URLResolver

from clinicflow.ledger.views import patient_link

urlpatterns: list[URLPattern | URLResolver] = [*patient_link.paths]
