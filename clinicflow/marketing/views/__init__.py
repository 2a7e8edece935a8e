"""Pages of the marketing app."""
