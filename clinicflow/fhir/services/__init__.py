"""Writes of the FHIR API: create a Patient or book an Appointment from a FHIR resource, and import
a Bundle of them (``bundle_import``). Each goes through the patients and booking services, so every
rule of theirs applies."""

from clinicflow.fhir.services.bundle import BundleResult, bundle_import
from clinicflow.fhir.services.create import Resolver, appointment_create_fhir, patient_create_fhir

__all__ = ["BundleResult", "Resolver", "appointment_create_fhir", "bundle_import", "patient_create_fhir"]
