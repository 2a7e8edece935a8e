"""YCLIENTS: clients and records as its REST API v2 returns them, and its change webhooks."""
