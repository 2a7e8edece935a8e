"""Pages of the ledger app."""

from django.urls import URLPattern, URLResolver

from clinicflow.ledger.views import checkout, memberships, wallet

app_name = "ledger"
urlpatterns: list[URLPattern | URLResolver] = [*wallet.paths, *memberships.paths, *checkout.paths]
