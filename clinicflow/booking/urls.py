from django.urls import path

from clinicflow.booking.views import appointments, calendar, schedules, setup, waitlist

app_name = "booking"
urlpatterns = [
    path("", calendar.calendar, name="calendar"),
    path("slots/", appointments.slot_search, name="slots"),
    path("patients/", appointments.patient_pick, name="patient_pick"),
    path("book/", appointments.appointment_create, name="book"),
    path("a/<str:appointment_id>/", appointments.appointment_detail, name="appointment"),
    path("a/<str:appointment_id>/move/", appointments.appointment_move, name="appointment_move"),
    path("a/<str:appointment_id>/cancel/", appointments.appointment_cancel, name="appointment_cancel"),
    path("a/<str:appointment_id>/mark/", appointments.appointment_mark, name="appointment_mark"),
    path("a/<str:appointment_id>/pay/", appointments.appointment_pay, name="appointment_pay"),
    path("a/<str:appointment_id>/link/", appointments.appointment_link, name="appointment_link"),
    path("waitlist/", waitlist.waitlist, name="waitlist"),
    path("waitlist/<str:entry_id>/close/", waitlist.waitlist_close, name="waitlist_close"),
    path("setup/", setup.setup, name="setup"),
    path("setup/doctors/", setup.doctor_add, name="setup_doctor"),
    path("setup/doctors/<str:doctor_id>/account/", setup.doctor_account, name="setup_doctor_account"),
    path("setup/rooms/", setup.room_add, name="setup_room"),
    path("setup/equipment/", setup.equipment_add, name="setup_equipment"),
    path("setup/settings/", setup.settings_save, name="setup_settings"),
    path("doctors/<str:doctor_id>/schedule/", schedules.doctor_schedule, name="doctor_schedule"),
    path("doctors/<str:doctor_id>/schedule/week/", schedules.week_save, name="schedule_week"),
    path("doctors/<str:doctor_id>/schedule/services/", schedules.services_save, name="schedule_services"),
    path("doctors/<str:doctor_id>/schedule/exceptions/", schedules.exception_add, name="schedule_exception"),
    path(
        "doctors/<str:doctor_id>/schedule/exceptions/<str:exception_id>/delete/",
        schedules.exception_delete,
        name="schedule_exception_delete",
    ),
    path("doctors/<str:doctor_id>/schedule/ical/", schedules.ical_rotate, name="schedule_ical"),
    path("my/", calendar.my_schedule, name="my_schedule"),
    path("my/ical/", calendar.my_ical_rotate, name="my_ical"),
    path("ical/<str:token>.ics", calendar.ical_feed, name="ical"),
]
