"""Subcommands of the `nmsat` CLI, one module each exposing a click `command`."""
