"""Front-desk pages under /acquisition/calls/ (namespace "acquisition")."""

from django.urls import path

from clinicflow.acquisition.frontdesk import views

urlpatterns = [
    path("", views.call_log, name="call_log"),
    path("feed/", views.call_log_feed, name="call_log_feed"),
    path("callbacks/<str:task_id>/done/", views.callback_done, name="callback_done"),
    path("review/", views.review, name="review"),
    path("review/<str:entry_id>/remove/", views.review_remove, name="review_remove"),
    path("checklist/<str:branch_id>/", views.checklist, name="checklist"),
    path("checklist/<str:branch_id>/remove/", views.checklist_remove, name="checklist_remove"),
    path("checklist/<str:branch_id>/move/", views.checklist_move, name="checklist_move"),
    path("<str:call_id>/", views.call_detail, name="call_detail"),
    path("<str:call_id>/tags/", views.call_tag, name="call_tag"),
    path("<str:call_id>/score/", views.call_score, name="call_score"),
    path("<str:call_id>/administrator/", views.call_assign, name="call_assign"),
    path("<str:call_id>/review/", views.review_add, name="review_add"),
]
