"""The marketer's pages, included at /acquisition/ (namespace "acquisition")."""

from django.urls import path

from clinicflow.acquisition import views_marketing as v

urlpatterns = [
    path("", v.channels, name="channels"),
    path("channels/new/", v.channel_create, name="channel_create"),
    path("channels/<str:channel_id>/edit/", v.channel_edit, name="channel_edit"),
    path("campaigns/new/", v.campaign_create, name="campaign_create"),
    path("campaigns/<str:campaign_id>/edit/", v.campaign_edit, name="campaign_edit"),
    path("spend/", v.spend, name="spend"),
    path("spend/import/", v.spend_import_upload, name="spend_import"),
    path("spend/import/columns/", v.spend_import_map, name="spend_import_map"),
    path("spend/import/preview/", v.spend_import_preview, name="spend_import_preview"),
    path("numbers/", v.numbers, name="numbers"),
    path("numbers/<str:number_id>/active/", v.number_active, name="number_active"),
    path("integrations/", v.integrations, name="integrations"),
    path("integrations/tracking/", v.tracking_settings, name="tracking_settings"),
    path("integrations/dead-letters/", v.dead_letters, name="dead_letters"),
    path("integrations/dead-letters/<str:event_id>/", v.dead_letter_detail, name="dead_letter_detail"),
    path("integrations/dead-letters/<str:event_id>/replay/", v.dead_letter_replay, name="dead_letter_replay"),
    path(
        "integrations/dead-letters/<str:event_id>/discard/",
        v.dead_letter_discard,
        name="dead_letter_discard",
    ),
    path("integrations/<str:integration_id>/disable/", v.integration_disable, name="integration_disable"),
]
