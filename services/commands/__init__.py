"""The `verdicts` sub-commands, one module per area; services/cli.py puts them together."""
