"""The FHIR R4 API, mounted at ``/fhir/r4/`` (bearer tokens, ``application/fhir+json``)."""

from django.urls import URLPattern, URLResolver, path

from clinicflow.fhir.views import appointments, patients, scheduling, system

app_name = "fhir"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", system.root, name="root"),
    path("metadata", system.metadata, name="metadata"),
    path("Patient", patients.patient_type, name="patient-type"),
    path("Patient/<str:patient_id>", patients.patient_read, name="patient"),
    path("Appointment", appointments.appointment_type, name="appointment-type"),
    path("Appointment/<str:appointment_id>", appointments.appointment_read, name="appointment"),
    path("Practitioner", scheduling.practitioner_type, name="practitioner-type"),
    path("Practitioner/<str:doctor_id>", scheduling.practitioner_read, name="practitioner"),
    path("Schedule", scheduling.schedule_type, name="schedule-type"),
    path("Schedule/<str:schedule_id>", scheduling.schedule_read, name="schedule"),
    path("Slot", scheduling.slot_type, name="slot-type"),
    path("Slot/<str:slot_id>", scheduling.slot_read, name="slot"),
]
