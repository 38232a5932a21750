"""The JSON API under /api: scripts authenticate with `Authorization: Bearer <token>`.

Each area has its own module with its own router; `services.web.app` includes them.
"""
