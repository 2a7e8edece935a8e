"""Pages of the imports app."""
