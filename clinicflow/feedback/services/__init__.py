"""Feedback writes, one module per part (surveys, answers, complaints, settings)."""
