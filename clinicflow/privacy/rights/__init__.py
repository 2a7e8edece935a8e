"""Data-subject rights (issue #20): subject-access export, correction, erasure, withdrawal of
consents; each request logged with its statutory deadline (``requests``)."""
