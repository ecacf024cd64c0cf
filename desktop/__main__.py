"""`python -m desktop` is the `latentcut` command."""
from desktop.cli import run

run()
