"""Writes of the care app, one module per part: plans, generation (tasks and thank-you messages),
tasks (outcomes), recall (contacts)."""
