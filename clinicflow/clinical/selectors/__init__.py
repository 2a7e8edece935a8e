"""Clinical selectors, one module per part (consultations, consents, photos, treatments)."""
