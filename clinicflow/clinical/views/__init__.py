"""Clinical views, one module per part (consultations, consents, photos, treatments)."""
