"""`python -m desktop` is the `latentcut` command."""
import sys

from desktop.cli import main

sys.exit(main())
