from django.urls import path

from clinicflow.booking import views

app_name = "booking"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("slots/", views.slot_search, name="slots"),
    path("patients/", views.patient_pick, name="patient_pick"),
    path("book/", views.appointment_create, name="book"),
    path("a/<str:appointment_id>/", views.appointment_detail, name="appointment"),
    path("a/<str:appointment_id>/<str:action>/", views.appointment_action, name="appointment_action"),
    path("waitlist/", views.waitlist, name="waitlist"),
    path("waitlist/<str:entry_id>/close/", views.waitlist_close, name="waitlist_close"),
    path("setup/", views.setup, name="setup"),
    path("doctors/<str:doctor_id>/schedule/", views.doctor_schedule, name="doctor_schedule"),
    path("my/", views.my_schedule, name="my_schedule"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
]
