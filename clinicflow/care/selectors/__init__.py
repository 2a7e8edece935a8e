"""Reads of the care app, one module per part: plans, tasks (with the acquisition callbacks merged
in), recall lists, and what the periodic jobs work on."""
