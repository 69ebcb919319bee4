"""``spectroflow score``: a survey store scored into a redshift catalogue."""

from __future__ import annotations

from flows.cli.common import INTERRUPTED, add_cluster, add_model, add_workers, with_prefect
from pipeline.learn import weights


def add_command(sub) -> None:
    """Add ``score`` and its options; ``--model`` is explained here for every command."""
    parser = sub.add_parser("score", help="score a survey store into a catalogue (Prefect flow on Dask)")
    parser.add_argument("--store", required=True, help="survey store (from `spectroflow ingest`)")
    add_model(parser, f"model directory (from `spectroflow train`) or a shipped model (default: {weights.DEFAULT})")
    parser.add_argument("--out", required=True, help="catalogue directory")
    parser.add_argument("--no-refine", dest="refine", action="store_false",
                        help="skip the template fit: Z is the network's p(z) peak (faster, ~10x less precise)")
    add_workers(parser)
    add_cluster(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    """Score ``--store`` with ``--model`` into the catalogue ``--out`` and print its size and ZWARN counts."""
    from flows.jobs.score import ScoreRequest

    request = ScoreRequest(args.store, weights.resolve(args.model), args.out, args.refine)
    request.check()

    def flow():
        from flows.runtime.cluster import cluster_for, is_local
        from flows.score import local_threads, run_score

        threads = local_threads(args.workers) if is_local(args.cluster) else 1
        with cluster_for(args.cluster, args.workers) as cluster:
            return run_score(request, cluster=cluster, workers=args.workers, threads=threads)

    s = with_prefect(f"scoring {args.store} with {args.model} into {args.out}", flow,
                     f"rerun the same command to finish {args.out} (written parts are kept)")
    if s is None:
        return INTERRUPTED
    warnings = ", ".join(f"{k} {v:,}" for k, v in s["zwarn"].items())
    print(f"catalogue of {s['rows']:,} rows ({s['scored_now']:,} scored now in {s['seconds']:.1f} s, "
          f"{s['spectra_per_s']:,.0f} spectra/s): {', '.join(s['catalogue'])}\nZWARN: {warnings}")
    return 0
