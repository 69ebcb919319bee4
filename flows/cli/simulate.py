"""``spectroflow simulate``: a few spectra plotted to a PNG (no Prefect)."""

from __future__ import annotations

import time

from flows.cli.common import add_preset
from storage import location


def add_command(sub) -> None:
    """Add ``simulate`` and its options."""
    parser = sub.add_parser("simulate", help="simulate a few spectra and plot them to a PNG")
    parser.add_argument("--n", type=int, default=16, help="number of spectra (default 16)")
    parser.add_argument("--seed", type=int, default=1)
    add_preset(parser)
    parser.add_argument("--instrument", choices=["deimos", "sdss", "desi"], default="deimos")
    parser.add_argument("--out", default="spectra.png", help="PNG to write (default spectra.png)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Simulate ``--n`` spectra, plot them to ``--out`` and print what was made."""
    location.require_writable(args.out)
    if args.n < 1:
        raise ValueError("--n must be at least 1")
    from pipeline.assess.plotting import plot_spectra
    from pipeline.physics.instruments import get_instrument
    from pipeline.physics.simulate import simulate_chunk

    start = time.perf_counter()
    spectra = simulate_chunk(0, args.n, args.seed, args.preset, get_instrument(args.instrument))
    plot_spectra(spectra, args.out)
    z = spectra.labels["z"]
    print(
        f"simulated {len(spectra)} {args.instrument} spectra (preset {args.preset}, seed {args.seed}) "
        f"in {time.perf_counter() - start:.1f} s; z from {z.min():.3f} to {z.max():.3f}; plot: {args.out}"
    )
    return 0

