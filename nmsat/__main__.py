"""`python -m nmsat` runs the CLI."""

from nmsat.cli import main

main()
