"""Pages of the feedback app: the public survey, complaints, settings."""
