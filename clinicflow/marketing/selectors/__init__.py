"""Reads of the marketing app, one module per part."""
