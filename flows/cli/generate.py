"""``spectroflow generate``: a training (or simulated survey) store of synthetic spectra."""

from __future__ import annotations

from flows.cli.common import INTERRUPTED, add_chunk, add_cluster, add_preset, add_workers, with_prefect


def add_command(sub) -> None:
    """Add ``generate`` and its options; ``--cluster`` is explained here for every command."""
    parser = sub.add_parser("generate", help="generate a training store of synthetic spectra (Prefect flow on Dask)")
    parser.add_argument("--n", type=int, required=True, help="number of spectra")
    parser.add_argument("--out", required=True, help="Zarr store to write (PATH.zarr)")
    add_preset(parser)
    parser.add_argument("--instrument", default="deimos",
                        help="deimos (default), sdss, desi, or a comma list (e.g. deimos,sdss,desi): chunks cycle "
                             "through the instruments")
    parser.add_argument("--kind", choices=["training", "survey"], default="training",
                        help="training (default: noiseless spectra + noise model) or survey (a simulated survey "
                             "store: noisy spectra as `ingest` writes them, plus the truth, to score and evaluate)")
    add_chunk(parser, 8192)
    add_workers(parser, "Dask worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the parameter and noise streams (default 0 for training stores, 1000 for "
                             "survey stores, so a default survey never repeats a default training store; a survey "
                             "seed of 0 is refused)")
    add_cluster(parser, "'local' (default), a scheduler address tcp://..., or a cluster YAML (deploy/dask/)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing store at --out")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Create, resume or leave alone the store at ``--out``, then print what was written."""
    from flows.jobs.generate import DEFAULT_CHUNK, GenerateRequest, check

    request = GenerateRequest(args.out, args.n, args.chunk or DEFAULT_CHUNK, args.seed, args.preset,
                              args.instrument, args.kind)
    action = check(request, args.overwrite)  # fails here, before any server or worker starts
    if action == "complete":
        print(f"{args.out} is already complete ({request.n} spectra); nothing to do "
              "(pass --overwrite to generate it again)")
        return 0

    def flow():  # imports Prefect only once the server's settings are in the environment
        from flows.generate import run_generate
        from flows.runtime.cluster import cluster_for

        with cluster_for(args.cluster, args.workers) as cluster:
            return run_generate(request, overwrite=args.overwrite, cluster=cluster, workers=args.workers)

    summary = with_prefect(
        f"{'resuming' if action == 'resume' else 'creating'} {args.out}, {request.n} spectra in "
        f"{request.n_chunks} chunks of {request.chunk_size}, {args.workers} workers", flow,
        f"rerun the same command to finish {args.out} (complete chunks are kept)")
    if summary is None:
        return INTERRUPTED
    print(_summary_line(summary))
    return 0


def _summary_line(s: dict) -> str:
    """The printed summary of a generate run."""
    per = s["bytes"] / s["n"] if s["n"] else 0
    return (f"wrote {s['written_spectra']:,} spectra ({s['written_chunks']} chunks; {s['skipped_chunks']} already "
            f"complete) to {s['store']} in {s['seconds']:.1f} s: {s['spectra_per_s']:,.0f} spectra/s; "
            f"store {s['bytes'] / 1e6:,.1f} MB ({per / 1e3:.2f} KB per spectrum)")
