from django.urls import path

from clinicflow.analytics import views
from clinicflow.analytics.owner.alerts_views import alerts_page
from clinicflow.analytics.owner.scorecard_views import scorecards_page
from clinicflow.analytics.owner.views import owner_page

app_name = "analytics"
urlpatterns = [
    path("reports/", views.report_index, name="reports"),
    path("capacity/", views.capacity, name="capacity"),
    path("owner/", owner_page, name="owner_home"),
    path("owner/scorecards/", scorecards_page, name="owner_scorecards"),
    path("owner/alerts/", alerts_page, name="owner_alerts"),
    path("reports/<slug:name>/", views.report_page, name="report"),
    path("reports/<slug:name>/export.<str:fmt>", views.report_export, name="report_export"),
]
