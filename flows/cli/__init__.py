"""The ``spectroflow`` command line."""

from __future__ import annotations

import argparse
import sys

from flows.cli import evaluate, generate, ingest, nightly, score, server, simulate, survey, train, verify
from flows.cli.nightly import nightly_summary
from flows.cli.survey import survey_summary

__all__ = ["build_parser", "main", "nightly_summary", "survey_summary"]

#: One module per command (``survey`` also adds ``demo``), in the order ``--help`` lists them.
COMMANDS = (simulate, generate, train, ingest, score, nightly, evaluate, survey, verify, server)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each command module adds its own subcommand."""
    parser = argparse.ArgumentParser(prog="spectroflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_command(sub)
    return parser


def main(argv=None) -> int:
    """Run the command in ``argv``; bad input prints ``spectroflow COMMAND: error: ...`` and returns 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as err:
        print(f"spectroflow {args.command}: error: {err}", file=sys.stderr)
        return 2
