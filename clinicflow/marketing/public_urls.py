"""Public (no login) paths of the marketing app (unsubscribe, offer links), mounted at the site root."""

from django.urls import URLPattern, URLResolver, path

from clinicflow.marketing.views import public

urlpatterns: list[URLPattern | URLResolver] = [
    path("u/<str:token>/", public.unsubscribe_page, name="marketing_unsubscribe"),
    path("o/<str:token>/", public.offer_page, name="marketing_offer"),
]
