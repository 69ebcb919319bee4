"""``spectroflow verify``: a store checked for completeness, checksums and non-finite values (no Prefect)."""

from __future__ import annotations


def add_command(sub) -> None:
    """Add ``verify`` and its one argument."""
    parser = sub.add_parser("verify", help="check a store: completeness, checksums, non-finite values")
    parser.add_argument("store")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Print the store's verification summary; exit status 1 if it found a problem."""
    from storage import store

    if not store.exists(args.store):
        raise ValueError(f"{args.store} is not a spectra store")
    report = store.verify(args.store)
    print(f"{args.store}: {report.summary()}")
    return 0 if report.ok else 1
