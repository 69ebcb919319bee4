"""Rebuilding the combined catalogue of a nightly survey (``storage.catalogue.combine``).

    python benchmarks/nightly_combine.py [--nights 30] [--rows 33000] [--chunk 4096]

Writes ``--nights`` nightly catalogues of ``--rows`` rows each (the real column set,
from ``pipeline.assess.columns.rows`` on random predictions; parts of ``--chunk`` rows,
merged as ``score`` merges them) under a temporary directory, then times one rebuild
of the combined Parquet + FITS catalogue, as every nightly run does. Prints rows/s,
the output size and this process's peak RSS (the rebuild streams one row group at
a time, so the peak should not grow with the number of nights).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.assess import columns
from storage import catalogue


def fake_night(out: Path, first_id: int, rows: int, chunk: int, rng) -> None:
    n_pix = 64
    for c, start in enumerate(range(0, rows, chunk)):
        b = min(chunk, rows - start)
        z = rng.uniform(0, 2, b)
        pred = {"z": z, "zerr": np.full(b, 1e-3), "z_lo": z - 1e-3, "z_hi": z + 1e-3, "p1": np.full(b, 0.9),
                "z2": z + 0.5, "p2": np.full(b, 0.05)}
        for key in ("log_sfr", "metallicity", "log_q", "log_pk", "ebv"):
            pred[key], pred[f"{key}_err"] = rng.normal(size=b), np.full(b, 0.1)
        flux, ivar = rng.normal(1, 0.1, (b, n_pix)), np.full((b, n_pix), 100.0)
        ids = np.arange(first_id + start, first_id + start + b)
        catalogue.write_part(out, c, columns.rows(pred, ids, np.zeros(b, np.int64), flux, ivar, [0, 6],
                                                  "default-0123456789ab", c))
    ids = np.arange(first_id, first_id + rows)
    catalogue.merge(out, -(-rows // chunk), ids, columns.units(), {"model_id": "default-0123456789ab"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--rows", type=int, default=33_000, help="rows per night")
    parser.add_argument("--chunk", type=int, default=4096, help="rows per part (the ingest chunk)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for night in range(args.nights):
            out = Path(tmp, f"night-{night:03d}")
            fake_night(out, night * args.rows, args.rows, args.chunk, rng)
            sources.append((f"night-{night:03d}", str(out)))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        result = catalogue.combine(Path(tmp, "combined"), sources, {"model_id": "default-0123456789ab"})
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = sum(Path(p).stat().st_size for p in result["paths"]) / 1e6
    print(f"combined {result['rows']:,} rows from {args.nights} nights in {seconds:.1f} s "
          f"({result['rows'] / seconds:,.0f} rows/s); Parquet + FITS {size:,.0f} MB; "
          f"peak RSS {peak:,.0f} MB (before the rebuild {before:,.0f} MB)")


if __name__ == "__main__":
    main()
