"""Inbound webhooks from mail providers."""
