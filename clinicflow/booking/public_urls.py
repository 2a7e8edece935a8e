from django.urls import path

from clinicflow.booking import public_views

app_name = "booking_public"
urlpatterns = [
    path("manage/<str:appointment_id>/<str:token>/", public_views.manage, name="manage"),
    path(
        "manage/<str:appointment_id>/<str:token>/appointment.ics", public_views.manage_ics, name="manage_ics"
    ),
    path("<str:branch_id>/", public_views.branch_page, name="branch"),
    path("<str:branch_id>/details/", public_views.details, name="details"),
    path("<str:branch_id>/confirm/<str:code_id>/", public_views.confirm, name="confirm"),
]
