"""The `ropa` command line (typer)."""
