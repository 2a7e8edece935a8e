"""The marketer's channel, campaign and ad spend pages, included at /acquisition/ (namespace
"acquisition")."""

from django.urls import path

from clinicflow.acquisition.marketing import views

urlpatterns = [
    path("", views.channels, name="channels"),
    path("channels/new/", views.channel_create, name="channel_create"),
    path("channels/<str:channel_id>/edit/", views.channel_edit, name="channel_edit"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<str:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("spend/", views.spend, name="spend"),
    path("spend/import/", views.spend_import_upload, name="spend_import"),
    path("spend/import/columns/", views.spend_import_map, name="spend_import_map"),
    path("spend/import/preview/", views.spend_import_preview, name="spend_import_preview"),
    path("spend/import/cancel/", views.spend_import_cancel, name="spend_import_cancel"),
]
