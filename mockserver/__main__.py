"""`python -m mockserver`: the same as the `emma-mock` command."""
import sys

from .cli import main

sys.exit(main())
