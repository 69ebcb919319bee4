"""``spectroflow ingest``: survey FITS files into a survey store on the model grid."""

from __future__ import annotations

from flows.cli.common import INTERRUPTED, add_chunk, add_cluster, add_format, add_workers, with_prefect


def add_command(sub) -> None:
    """Add ``ingest`` and its options."""
    parser = sub.add_parser("ingest", help="survey FITS files -> a survey store on the model grid (Prefect flow)")
    parser.add_argument("files", nargs="+", help="SDSS spec/spec-lite, DESI coadd, ESO Phase 3 1-D spectrum "
                                                       "or 1-D spectrum-table FITS files")
    parser.add_argument("--out", required=True, help="survey store to write (PATH.zarr)")
    add_format(parser)
    add_chunk(parser, 4096)
    add_workers(parser)
    add_cluster(parser)
    parser.add_argument("--overwrite", action="store_true")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Ingest the files into ``--out`` (or finish doing so) and print what was read and quarantined."""
    from flows.jobs.ingest import DEFAULT_CHUNK, IngestRequest, check

    request = IngestRequest(tuple(args.files), args.out, args.format, args.chunk or DEFAULT_CHUNK)
    if check(request, args.overwrite) == "complete":
        print(f"{args.out} is already complete; nothing to do (pass --overwrite to ingest again)")
        return 0

    def flow():
        from flows.ingest import run_ingest
        from flows.runtime.cluster import cluster_for

        with cluster_for(args.cluster, args.workers) as cluster:
            return run_ingest(request, overwrite=args.overwrite, cluster=cluster, workers=args.workers)

    s = with_prefect(f"ingesting {len(args.files)} files into {args.out}", flow,
                     f"rerun the same command to finish {args.out}")
    if s is None:
        return INTERRUPTED
    print(f"ingested {s['spectra']:,} spectra into {args.out} ({s['written_spectra']:,} written now, "
          f"{s['seconds']:.1f} s); {len(s['quarantined'])} file(s) quarantined")
    for q in s["quarantined"][:20]:
        print(f"  quarantined: {q['error']}")
    return 0
