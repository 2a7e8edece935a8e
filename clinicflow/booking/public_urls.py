from django.urls import path

from clinicflow.booking.views import public

app_name = "booking_public"
urlpatterns = [
    path("manage/<str:appointment_id>/<str:token>/", public.manage, name="manage"),
    path("manage/<str:appointment_id>/<str:token>/cancel/", public.manage_cancel, name="manage_cancel"),
    path("manage/<str:appointment_id>/<str:token>/move/", public.manage_move, name="manage_move"),
    path("manage/<str:appointment_id>/<str:token>/appointment.ics", public.manage_ics, name="manage_ics"),
    path("<str:branch_id>/", public.branch_page, name="branch"),
    path("<str:branch_id>/details/", public.details, name="details"),
    path("<str:branch_id>/confirm/<str:code_id>/", public.confirm, name="confirm"),
]
