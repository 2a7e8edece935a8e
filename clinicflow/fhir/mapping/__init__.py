"""Clinicflow rows as FHIR R4 resources (JSON dicts) and FHIR resources back as service input."""
