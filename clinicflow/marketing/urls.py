"""Pages of the marketing app; each part keeps its own list of paths in its views module."""

from django.urls import URLPattern, URLResolver

from clinicflow.marketing.views import audiences, calendar, campaigns, documents, offers

app_name = "marketing"
urlpatterns: list[URLPattern | URLResolver] = [
    *calendar.paths,
    *offers.paths,
    *audiences.paths,
    *campaigns.paths,
    *documents.paths,
]
