"""``spectroflow server``: the local Prefect server, started or found."""

from __future__ import annotations


def add_command(sub) -> None:
    """Add ``server`` (no options)."""
    parser = sub.add_parser("server", help="start (or find) the local Prefect server and print its URL")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Start (or find) the server and print its UI's URL."""
    from flows.runtime.server import ensure_server, ui_url

    print(f"Prefect UI: {ui_url(ensure_server())}")
    return 0
