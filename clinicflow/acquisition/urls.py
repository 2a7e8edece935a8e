from django.urls import include, path

app_name = "acquisition"
urlpatterns = [
    # Marketer: channels, campaigns, ad spend import, tracking numbers, integrations, dead letters.
    path("", include("clinicflow.acquisition.urls_marketing")),
    # Front desk: call log, callbacks, tagging and scoring, weekly review list.
    path("calls/", include("clinicflow.acquisition.urls_frontdesk")),
]
