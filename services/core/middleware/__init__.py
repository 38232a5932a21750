"""The project's own dramatiq middleware, one a module."""
