"""Score a survey store end to end with the Prefect flow: Zarr read -> model -> catalogue.

    python benchmarks/score_throughput.py --n 1000000 --store data/survey-1m.zarr [--model survey]
        [--workers 2] [--chunk 4096] [--also 100000] [--refine both|on|off]

1. Builds (or reuses) a survey store of ``--n`` simulated spectra (``default`` preset,
   chunks cycling through DEIMOS, SDSS and DESI coverage): what
   ``spectroflow generate --kind survey`` writes, in the layout of ``spectroflow ingest``.
2. Runs the ``score`` flow on a local Dask cluster and prints spectra/s end to end
   (flow start to merged catalogue), the share of worker time spent reading the store,
   in the model, in the template fit and writing catalogue parts, the merge time, and
   the peak memory (sampled RSS of this process plus every worker, and the largest
   single worker) -- with the fit and without it (``--no-refine``), by default both.
``--also N`` scores the first N chunks' worth as a second store too, so peak memory
can be compared between sizes. Catalogues go to a temporary directory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numcodecs
import psutil

from flows.jobs.generate import GenerateRequest, fill_chunk, prepare
from pipeline.learn import weights
from storage import store

INSTRUMENTS = "deimos,sdss,desi"
SEED = 4242


def make_store(path: str, n: int, chunk: int, workers: int) -> None:
    """A complete simulated survey store of ``n`` spectra at ``path`` (reused if complete),
    built by the generation glue in plain processes (no flow: this is set-up)."""
    if store.exists(path) and store.layout(path) == (n, chunk) and not store.incomplete_chunks(path):
        return
    request = GenerateRequest(path, n, chunk, SEED, "default", INSTRUMENTS, kind="survey")
    if not store.exists(path):
        need = n * 30_000  # bytes on disk per spectrum, measured ~28 KB
        free = shutil.disk_usage(Path(path).absolute().parent).free
        if free < need * 1.1:
            raise SystemExit(f"need ~{need / 1e9:.0f} GB free for {path}, have {free / 1e9:.0f} GB")
    todo = prepare(request)
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for done, _ in enumerate(pool.imap_unordered(_fill, [(path, i) for i in todo]), 1):
            if done % 20 == 0 or done == len(todo):
                print(f"  built {done}/{len(todo)} chunks ({time.perf_counter() - start:.0f} s)", flush=True)


def _fill(job) -> None:
    numcodecs.blosc.set_nthreads(1)
    fill_chunk(*job)


class MemorySampler:
    """Peak RSS (MB) of this process and its descendants, sampled every 0.2 s."""

    def __init__(self):
        self.peak_total = self.peak_single = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            rss = []
            for proc in [me, *me.children(recursive=True)]:
                try:
                    rss.append(proc.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            self.peak_total = max(self.peak_total, sum(rss))
            self.peak_single = max(self.peak_single, max(rss[1:], default=0.0))
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def score(store_path: str, model: str, workers: int, refine: bool) -> None:
    from flows.jobs.score import ScoreRequest
    from flows.score import run_score
    from pipeline.learn.weights import resolve

    n, _ = store.layout(store_path)
    out = tempfile.mkdtemp(prefix="catalogue-")
    try:
        with MemorySampler() as memory:
            start = time.perf_counter()
            summary = run_score(ScoreRequest(store_path, resolve(model), out, refine), workers=workers,
                                progress_bar=False)
            seconds = time.perf_counter() - start
        stages = summary["stages"]
        busy = sum(stages.values())
        print(f"[{'with the fit' if refine else '--no-refine'}] "
              f"{n:,} spectra scored end to end in {seconds:.1f} s: {n / seconds:,.0f} spectra/s "
              f"(flow's own clock {summary['spectra_per_s']:,.0f}/s)")
        print("  worker time: " + ", ".join(f"{k} {v:.0f} s ({v / busy:.0%})" for k, v in stages.items())
              + f"; merge {summary['merge_s']:.1f} s")
        print(f"  peak memory: {memory.peak_total:,.0f} MB all processes, {memory.peak_single:,.0f} MB largest "
              f"worker; catalogue {summary['rows']:,} rows")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--store", default="data/survey-1m.zarr")
    parser.add_argument("--model", default=weights.DEFAULT, help="model directory or shipped model name")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=4096)
    parser.add_argument("--also", type=int, default=None, help="also score a store of this many spectra")
    parser.add_argument("--refine", choices=("both", "on", "off"), default="both",
                        help="score with the template fit, without it (--no-refine), or both")
    args = parser.parse_args()
    from flows.runtime.server import ensure_server

    ensure_server(log=print)
    for n, path in ([(args.also, f"{args.store.removesuffix('.zarr')}-{args.also}.zarr")] if args.also else []) + [
            (args.n, args.store)]:
        print(f"store {path}: {n:,} spectra")
        make_store(path, n, args.chunk, args.workers)
        for refine in {"both": (True, False), "on": (True,), "off": (False,)}[args.refine]:
            score(path, args.model, args.workers, refine)


if __name__ == "__main__":
    main()
