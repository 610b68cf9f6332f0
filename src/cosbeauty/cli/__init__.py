"""The ``cosbeauty`` command line. Each command family lives in its own module exposing
``register(subparsers)``; this file only assembles them."""

from __future__ import annotations

import argparse
import importlib
import sys

# module path -> registers one or more subcommands
COMMAND_MODULES = [
    "cosbeauty.cli.serve",      # serve
    "cosbeauty.cli.beautify",     # beautify
    "cosbeauty.cli.admin",       # user, key, policy, token
    "cosbeauty.cli.ci",          # ci, usage
    "cosbeauty.cli.master_key",  # master-key generate|reseal (cluster mode)
    "cosbeauty.cli.db",          # db upgrade|version (PostgreSQL metadata, cluster mode)
    "cosbeauty.cli.migrate",     # migrate --from DATA_DIR --to-metadata URL --to-blobs URL
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cosbeauty",
        description="A self-hosted COS-compatible object server with AI face beautification.")
    from cosbeauty import __version__
    parser.add_argument("--version", action="version", version=f"cosbeauty {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command family not built yet
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if argv is None and args.command in ("serve", "beautify"):   # a real process that builds MediaPipe graphs
        from cosbeauty._stderr_filter import install
        install()
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
