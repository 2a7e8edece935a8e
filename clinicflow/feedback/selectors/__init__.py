"""Feedback selectors, one module per part (surveys, complaints, settings). Every function takes the
organisation first."""
