"""Reports of the care app (registered at import)."""
