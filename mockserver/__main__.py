"""`emma-mock` and `python -m mockserver`: serve the mock, or `capture`/`verify` against the real API."""
import sys
from collections.abc import Sequence

SUBCOMMANDS = ("capture", "verify")  # against the real API (mockserver.contract); `serve` or none: serve


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        from .contract.cli import main as contract_main  # only these commands import it

        return contract_main(args)
    from .serving.cli import main as serve

    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
