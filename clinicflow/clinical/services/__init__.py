"""Clinical services, one module per part (consultations, consents, photos, treatments)."""
