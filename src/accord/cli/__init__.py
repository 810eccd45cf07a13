"""The `accord` command (Typer + Rich)."""
