"""The import engine: map columns, clean rows, write batches, run jobs."""
