"""``spectroflow nightly``: the new survey files ingested and scored, the combined catalogue rebuilt."""

from __future__ import annotations

import os

from flows.cli.common import INTERRUPTED, add_chunk, add_cluster, add_format, add_model, add_workers, with_prefect
from pipeline.learn import weights


def add_command(sub) -> None:
    """Add ``nightly`` and its options."""
    parser = sub.add_parser("nightly", help="ingest and score the survey files that are new since the last run, "
                                            "and rebuild the combined catalogue (Prefect flow on Dask)")
    parser.add_argument("incoming", nargs="+",
                        help="survey FITS files or glob patterns (quote them: 'incoming/*.fits')")
    parser.add_argument("--root", required=True,
                        help="directory of the batches, their ledger and the combined catalogue")
    add_model(parser)
    add_format(parser)
    add_chunk(parser, 4096)
    parser.add_argument("--settle", type=float, default=60.0,
                        help="seconds since a file last changed before it is taken (default 60: still being copied)")
    add_workers(parser)
    add_cluster(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    """Run one nightly batch into ``--root`` and print :func:`nightly_summary`."""
    from flows.jobs.ingest import DEFAULT_CHUNK
    from flows.jobs.nightly import NightlyRequest
    from pipeline.learn.training import read_card

    request = NightlyRequest(tuple(args.incoming), args.root, weights.resolve(args.model), args.format,
                             args.chunk or DEFAULT_CHUNK, args.settle)
    read_card(request.model)  # an unreadable model, root or ledger fails here, before any server starts
    request.check()

    def flow():
        from flows.nightly import nightly
        from flows.runtime.cluster import cluster_for

        with cluster_for(args.cluster, args.workers) as cluster:
            return nightly(list(request.incoming), request.root, request.model, request.format, request.chunk,
                           request.settle_s, cluster=cluster, workers=args.workers,
                           root_name=os.path.basename(os.path.abspath(args.root)))

    s = with_prefect(f"nightly run: new files among {' '.join(args.incoming)} into {args.root}", flow,
                     "rerun the same command to finish the batch")
    if s is None:
        return INTERRUPTED
    print(nightly_summary(s))
    return 0


def nightly_summary(s: dict) -> str:
    """The printed summary of a nightly run."""
    lines = [f"batch {s['batch']}: {s['files']} new file(s), {s['spectra']:,} spectra, "
             f"{len(s['quarantined'])} file(s) quarantined" if s["batch"] else "no new files"]
    lines += [f"  quarantined: {q['error']}" for q in s["quarantined"][:20]]
    if s["settling"]:
        lines.append(f"{len(s['settling'])} file(s) still being written wait for the next run")
    if "catalogue" in s:
        c = s["catalogue"]
        lines.append(f"combined catalogue: {c['rows']:,} rows ({c['duplicates']:,} with a repeated TARGETID): "
                     f"{', '.join(c['paths'])}")
    return "\n".join(lines)
