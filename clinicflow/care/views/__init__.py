"""Pages of the care app: follow-up tasks, plans, recall lists."""
