"""Reports of the feedback app (registered at import)."""
