from django.urls import path

from clinicflow.acquisition import webhooks
from clinicflow.acquisition.tracking import public_views as tracking

app_name = "acquisition_public"
urlpatterns = [
    path("hooks/calls/<str:provider>/<str:secret>", webhooks.call_webhook, name="call_webhook"),
    path("t/cf.js", tracking.script, name="script"),
    path("t/session", tracking.session_view, name="session"),
    path("t/lead", tracking.lead_view, name="lead"),
]
