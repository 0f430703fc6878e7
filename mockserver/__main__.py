"""`python -m mockserver`: the same as the `emma-mock` command."""
import sys

from .serving.cli import main

sys.exit(main())
