"""Generation into a training store with the Prefect flow on a local Dask cluster.

    python benchmarks/generate_throughput.py [--n 200000] [--workers 2] [--chunk 8192] [--keep]

Prints three rates for the same spectra, so each layer's cost shows:
  1. physics alone in this process (``render``: noiseless spectra + noise model;
     and ``simulate``: the noisy spectra of the physics benchmark, for reference),
  2. one process filling a store chunk by chunk (physics + float16 packing + Zarr/Blosc),
  3. the Prefect flow fanned out over ``--workers`` Dask processes,
and the flow's MB/s written, bytes per spectrum on disk and peak RSS per worker.
The store is written under --dir (default: a temporary directory) and deleted
afterwards unless --keep; free disk is checked first.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path

import numcodecs
import numpy as np
import torch

from flows.jobs.generate import GenerateRequest, fill_chunk, prepare
from flows.runtime.malloc import keep_freed_memory
from pipeline.physics.simulate import chunk_params, render_batches, simulate_chunk
from storage import store

SAMPLE = 8192  # spectra for the single-process rates


def rate(fn, n: int) -> float:
    """n / seconds of ``fn()``, timed on its second call (the first grows the heap)."""
    fn()
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def one_thread() -> None:
    """As in the flow's workers: one compression thread, one torch thread."""
    numcodecs.blosc.set_nthreads(1)
    torch.set_num_threads(1)
    keep_freed_memory()


def single_process_rates(workdir: Path, chunk: int) -> dict[str, float]:
    params, config = chunk_params(0, SAMPLE, seed=99)
    simulate_chunk(0, 16, seed=99)  # warm-up: libraries, caches
    request = GenerateRequest(str(workdir / "single.zarr"), n=SAMPLE, chunk=min(chunk, SAMPLE), seed=99)
    todo = prepare(request)
    one_thread()
    return {
        "render": rate(lambda: [None for _ in render_batches(params, config)], SAMPLE),
        "simulate": rate(lambda: [simulate_chunk(c, 1024, seed=99) for c in range(SAMPLE // 1024)], SAMPLE),
        "store": rate(lambda: [fill_chunk(request.out, i) for i in todo], SAMPLE),
    }


def print_timeline(summary: dict, workers: int) -> None:
    """Where the flow's time went: worker start-up, task compute, gaps between tasks."""
    t0, timeline = summary["submitted"], summary["timeline"]
    first = min(start for _, start, *_ in timeline) - t0
    durations = np.array([end - start for _, start, end, *_ in timeline])
    cpu = np.array([c for *_, c, _ in timeline])
    last_end, gaps = {}, []
    for worker, start, end, *_ in timeline:
        if worker in last_end:
            gaps.append(start - last_end[worker])
        last_end[worker] = end
    busy = durations.sum() / (workers * summary["seconds"])
    print(f"  first task started {first:.1f} s after submission (worker imports); task median {np.median(durations):.2f} s "
          f"(CPU {np.median(cpu):.2f} s, all threads), first tasks {durations[:workers].round(2).tolist()} s; "
          f"median gap between tasks {np.median(gaps) if gaps else 0:.2f} s; workers busy {busy:.0%} of the time")


def _plain_worker(args) -> float:
    """Fill two chunks of a scratch store after one warm-up chunk; spectra/s."""
    path, first = args
    one_thread()
    fill_chunk(path, first)
    start = time.perf_counter()
    fill_chunk(path, first + 1)
    fill_chunk(path, first + 2)
    return 2 * SAMPLE / (time.perf_counter() - start)


def plain_processes_rate(workdir: Path, workers: int) -> float:
    """Spectra/s per process of ``workers`` plain processes filling chunks at once
    (no Dask, no Prefect): what the cores sustain side by side."""
    request = GenerateRequest(str(workdir / "plain.zarr"), n=3 * workers * SAMPLE, chunk=SAMPLE, seed=98)
    prepare(request)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        rates = pool.map(_plain_worker, [(request.out, 3 * w) for w in range(workers)])
    return sum(rates) / workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=8192)
    parser.add_argument("--dir", default=None, help="where to write the store (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the store")
    args = parser.parse_args()
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="spectroflow-bench-"))
    need = args.n * 7_000  # ~6 KB per spectrum on disk, with margin
    free = shutil.disk_usage(workdir).free
    if free < 2 * need:
        raise SystemExit(f"not enough disk in {workdir}: {free / 1e9:.1f} GB free, want {2 * need / 1e9:.1f} GB")

    single = single_process_rates(workdir, args.chunk)
    print(f"single process, {SAMPLE} spectra: render {single['render']:,.0f}/s, simulate (noisy) "
          f"{single['simulate']:,.0f}/s, render + pack + Zarr write {single['store']:,.0f}/s")
    plain = plain_processes_rate(workdir, args.workers)
    print(f"{args.workers} plain processes side by side (no Dask/Prefect): {plain:,.0f}/s each "
          f"({plain / single['store']:.0%} of one alone), {args.workers * plain:,.0f}/s together")

    from flows.runtime.server import ensure_server

    api = ensure_server()
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.generate import run_generate

    out = workdir / "bench.zarr"
    start = time.perf_counter()
    with temporary_settings({PREFECT_API_URL: api}):
        summary = run_generate(GenerateRequest(str(out), args.n, args.chunk, seed=1), workers=args.workers,
                               overwrite=True, progress_bar=False)
    wall = time.perf_counter() - start
    flow_rate = summary["spectra_per_s"]
    per_core = flow_rate / args.workers
    size = summary["bytes"]
    print(f"flow: {args.n:,} spectra, {summary['chunks']} chunks of {args.chunk}, {args.workers} workers")
    print(f"  {flow_rate:,.0f} spectra/s over the tasks ({summary['seconds']:.1f} s), "
          f"{args.n / wall:,.0f} spectra/s wall incl. cluster start ({wall:.1f} s)")
    print(f"  per worker {per_core:,.0f}/s = {per_core / single['simulate']:.0%} of simulate, "
          f"{per_core / single['store']:.0%} of one process's store fill, "
          f"{per_core / plain:.0%} of plain processes side by side")
    print(f"  written {size / 1e6:,.0f} MB at {size / 1e6 / summary['seconds']:,.1f} MB/s; "
          f"{size / args.n:,.0f} bytes per spectrum on disk")
    print(f"  peak RSS per worker (MB): {', '.join(f'{m:,.0f}' for m in summary['peak_rss_mb_per_worker'])}")
    print_timeline(summary, args.workers)
    report = store.verify(out)
    print(f"  verify: {report.summary()}")
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
