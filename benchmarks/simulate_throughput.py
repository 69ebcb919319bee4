"""Spectra simulated per second in one process (issue: >= 5,000/s for the default instrument).

    python benchmarks/simulate_throughput.py [--n 20000] [--chunk 1000] [--preset default]

Warm-up (library builds, ~5 s once per process) is excluded and reported apart.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from flows.runtime.malloc import keep_freed_memory
from pipeline.physics.instruments import get_instrument
from pipeline.physics.simulate import simulate_chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--instrument", default="deimos")
    args = parser.parse_args()
    instrument = get_instrument(args.instrument)
    keep_freed_memory()  # as the generate flow's workers do
    start = time.perf_counter()
    simulate_chunk(0, 8, seed=0, preset=args.preset, instrument=instrument)
    warm = time.perf_counter() - start
    chunks = args.n // args.chunk
    start = time.perf_counter()
    for c in range(chunks):
        s = simulate_chunk(c, args.chunk, seed=1, preset=args.preset, instrument=instrument)
    elapsed = time.perf_counter() - start
    n = chunks * args.chunk
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"preset={args.preset} instrument={args.instrument} pixels={s.flux.shape[1]} chunk={args.chunk}")
    print(f"warm-up (library builds): {warm:.1f} s")
    print(f"{n} spectra in {elapsed:.2f} s: {n / elapsed:,.0f} spectra/s ({1e3 * elapsed / n:.3f} ms/spectrum)")
    print(f"peak RSS {peak:,.0f} MB; finite flux: {bool(np.isfinite(s.flux).all())}")


if __name__ == "__main__":
    main()
