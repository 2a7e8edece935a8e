"""The FHIR R4 endpoints (plain Django views answering ``application/fhir+json``)."""
