"""The ``spectroflow`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import time


def _check_writable(path: str) -> None:
    """Fail before any work if ``path`` cannot be written."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ValueError(f"cannot write {path}: directory {parent} does not exist or is not writable")


def _simulate(args) -> int:
    _check_writable(args.out)
    if args.n < 1:
        raise ValueError("--n must be at least 1")
    from pipeline.instruments import get_instrument
    from pipeline.plotting import plot_spectra
    from pipeline.simulate import simulate_chunk

    start = time.perf_counter()
    spectra = simulate_chunk(0, args.n, args.seed, args.preset, get_instrument(args.instrument))
    plot_spectra(spectra, args.out)
    z = spectra.labels["z"]
    print(
        f"simulated {len(spectra)} {args.instrument} spectra (preset {args.preset}, seed {args.seed}) "
        f"in {time.perf_counter() - start:.1f} s; z from {z.min():.3f} to {z.max():.3f}; plot: {args.out}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spectroflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulate", help="simulate a few spectra and plot them to a PNG")
    sim.add_argument("--n", type=int, default=16, help="number of spectra (default 16)")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--preset", choices=["default", "thesis"], default="default")
    sim.add_argument("--instrument", choices=["deimos", "sdss", "desi"], default="deimos")
    sim.add_argument("--out", default="spectra.png", help="PNG to write (default spectra.png)")
    sim.set_defaults(func=_simulate)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"spectroflow {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
