from django.urls import include, path

app_name = "acquisition"
urlpatterns = [
    # Marketer: channels, campaigns, ad spend and its import.
    path("", include("clinicflow.acquisition.marketing.urls")),
    # Marketer: tracking numbers.
    path("numbers/", include("clinicflow.acquisition.tracking.urls")),
    # Owner: telephony integrations, the website script's settings, failed webhooks (dead letters).
    path("integrations/", include("clinicflow.acquisition.integrations.urls")),
    # Front desk: call log, callbacks, tagging and scoring, weekly review list, checklists.
    path("calls/", include("clinicflow.acquisition.frontdesk.urls")),
    # Front desk: web-form leads and the possible patient matches to confirm.
    path("leads/", include("clinicflow.acquisition.tracking.lead_urls")),
]
