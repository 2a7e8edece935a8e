"""Delivery channels: e-mail over SMTP and SMS through a provider adapter."""
