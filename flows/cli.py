"""The ``spectroflow`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import time

from pipeline.learn import weights


def _check_writable(path: str) -> None:
    """Fail before any work if ``path`` cannot be written."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise ValueError(f"cannot write {path}: directory {parent} does not exist or is not writable")


def _simulate(args) -> int:
    _check_writable(args.out)
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


def _with_prefect(banner: str, run, on_interrupt: str):
    """Start or find the Prefect server, print its URL and ``banner``, then call
    ``run()`` reporting to it. Returns its result, or None after Ctrl-C."""
    from flows.runtime.server import ensure_server, ui_url

    api = ensure_server()
    print(f"Prefect UI: {ui_url(api)}  ({banner})")
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}):
        try:
            return run()
        except KeyboardInterrupt:
            print(f"\ninterrupted: {on_interrupt}", file=sys.stderr)
            return None


def _generate(args) -> int:
    from flows.jobs.generate import DEFAULT_CHUNK, GenerateRequest, check

    chunk = args.chunk or DEFAULT_CHUNK
    request = GenerateRequest(args.out, args.n, chunk, args.seed, args.preset, args.instrument, args.kind)
    action = check(request, args.overwrite)  # fails here, before any server or worker starts
    if action == "complete":
        print(f"{args.out} is already complete ({request.n} spectra); nothing to do "
              "(pass --overwrite to generate it again)")
        return 0

    def run():  # imports Prefect only once the server's settings are in the environment
        from flows.generate import run_generate
        from flows.runtime.cluster import cluster_for

        with cluster_for(args.cluster, args.workers) as cluster:
            return run_generate(request, overwrite=args.overwrite, cluster=cluster, workers=args.workers)

    summary = _with_prefect(
        f"{'resuming' if action == 'resume' else 'creating'} {args.out}, {request.n} spectra in "
        f"{request.n_chunks} chunks of {request.chunk_size}, {args.workers} workers", run,
        f"rerun the same command to finish {args.out} (complete chunks are kept)")
    if summary is None:
        return 130
    print(_summary_line(summary))
    return 0


def _summary_line(s: dict) -> str:
    per = s["bytes"] / s["n"] if s["n"] else 0
    return (f"wrote {s['written_spectra']:,} spectra ({s['written_chunks']} chunks; {s['skipped_chunks']} already "
            f"complete) to {s['store']} in {s['seconds']:.1f} s: {s['spectra_per_s']:,.0f} spectra/s; "
            f"store {s['bytes'] / 1e6:,.1f} MB ({per / 1e3:.2f} KB per spectrum)")


def _train(args) -> int:
    from flows.jobs.train import TrainRequest

    request = TrainRequest(args.store, args.model, args.out or f"models/{args.model}", args.max_minutes,
                           args.device, args.epochs, args.batch_size, args.seed, args.limit)
    request.check()  # before any server starts

    def run():
        from flows.train import train

        return train(**{k: v for k, v in vars(request).items() if k != "extra"})

    card = _with_prefect(f"training {args.model} on {args.store} into {request.out}", run,
                         f"rerun the same command to resume from {request.out}/last.pt")
    if card is None:
        return 130
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in card["val_metrics"].items())
    print(f"trained {args.model} for {card['epochs']} epochs ({card['train_seconds'] / 60:.1f} min, stopped by "
          f"{card.get('stopped_by')}); best epoch {card['best_epoch']}: validation {metrics}; model in {request.out}")
    return 0


def _ingest(args) -> int:
    from flows.jobs.ingest import DEFAULT_CHUNK, IngestRequest, check

    request = IngestRequest(tuple(args.files), args.out, args.format, args.chunk or DEFAULT_CHUNK)
    if check(request, args.overwrite) == "complete":
        print(f"{args.out} is already complete; nothing to do (pass --overwrite to ingest again)")
        return 0

    def run():
        from flows.ingest import run_ingest
        from flows.runtime.cluster import cluster_for

        with cluster_for(args.cluster, args.workers) as cluster:
            return run_ingest(request, overwrite=args.overwrite, cluster=cluster, workers=args.workers)

    s = _with_prefect(f"ingesting {len(args.files)} files into {args.out}", run,
                      f"rerun the same command to finish {args.out}")
    if s is None:
        return 130
    print(f"ingested {s['spectra']:,} spectra into {args.out} ({s['written_spectra']:,} written now, "
          f"{s['seconds']:.1f} s); {len(s['quarantined'])} file(s) quarantined")
    for q in s["quarantined"][:20]:
        print(f"  quarantined: {q['error']}")
    return 0


def _score(args) -> int:
    from flows.jobs.score import ScoreRequest

    request = ScoreRequest(args.store, weights.resolve(args.model), args.out)
    request.check()

    def run():
        from flows.runtime.cluster import cluster_for, is_local
        from flows.score import local_threads, run_score

        threads = local_threads(args.workers) if is_local(args.cluster) else 1
        with cluster_for(args.cluster, args.workers) as cluster:
            return run_score(request, cluster=cluster, workers=args.workers, threads=threads)

    s = _with_prefect(f"scoring {args.store} with {args.model} into {args.out}", run,
                      f"rerun the same command to finish {args.out} (written parts are kept)")
    if s is None:
        return 130
    warnings = ", ".join(f"{k} {v:,}" for k, v in s["zwarn"].items())
    print(f"catalogue of {s['rows']:,} rows ({s['scored_now']:,} scored now in {s['seconds']:.1f} s, "
          f"{s['spectra_per_s']:,.0f} spectra/s): {', '.join(s['catalogue'])}\nZWARN: {warnings}")
    return 0


def _nightly(args) -> int:
    from flows.jobs.ingest import DEFAULT_CHUNK
    from flows.jobs.nightly import NightlyRequest
    from pipeline.learn.training import read_card

    request = NightlyRequest(tuple(args.incoming), args.root, weights.resolve(args.model), args.format,
                             args.chunk or DEFAULT_CHUNK, args.settle)
    read_card(request.model)  # an unreadable model, root or ledger fails here, before any server starts
    request.check()

    def run():
        from flows.nightly import nightly
        from flows.runtime.cluster import cluster_for

        with cluster_for(args.cluster, args.workers) as cluster:
            return nightly(list(request.incoming), request.root, request.model, request.format, request.chunk,
                           request.settle_s, cluster=cluster, workers=args.workers,
                           root_name=os.path.basename(os.path.abspath(args.root)))

    s = _with_prefect(f"nightly run: new files among {' '.join(args.incoming)} into {args.root}", run,
                      "rerun the same command to finish the batch")
    if s is None:
        return 130
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


def _evaluate(args) -> int:
    from flows.jobs.evaluate import EvaluateRequest

    request = EvaluateRequest(args.catalogue, args.store, args.model, args.out).resolved()

    def run():
        from flows.evaluate import run_evaluate

        return run_evaluate(request)

    s = _with_prefect(f"evaluating {args.catalogue} against the truth in {request.store}", run,
                      "rerun the same command")
    if s is None:
        return 130
    print(f"NMAD {s['nmad']:.5f}, η {s['eta']:.2%} over {s['n']:,} spectra; S/N ≥ 5: NMAD {s['nmad_snr5']:.5f}, "
          f"η {s['eta_snr5']:.2%} ({s['n_snr5']:,} spectra)\nreport: {s['report']['html']} and "
          f"{s['report']['markdown']}")
    return 0


def _survey(args) -> int:
    from flows.jobs.survey import SurveyRequest

    request = SurveyRequest(args.dir, args.train_n, args.survey_n, args.train_minutes, args.chunk or 8192,
                            args.seed, args.fresh)
    request.check()  # before any server or worker starts

    def run():
        from flows.runtime.cluster import cluster_for, is_local
        from flows.score import local_threads
        from flows.survey import survey

        threads = local_threads(args.workers) if is_local(args.cluster) else 1
        with cluster_for(args.cluster, args.workers) as cluster:
            return survey(**{k: v for k, v in vars(request).items()}, cluster=cluster, workers=args.workers,
                          threads=threads, root_name=os.path.basename(os.path.abspath(args.dir)))

    start = time.perf_counter()
    s = _with_prefect(f"survey run in {args.dir}: {request.train_n:,} training spectra, {request.train_minutes:g} min "
                      f"of training, {request.survey_n:,} survey spectra", run,
                      "rerun the same command to go on (complete stages are reused)")
    if s is None:
        return 130
    print(survey_summary(s, time.perf_counter() - start))
    return 0


def survey_summary(s: dict, seconds: float) -> str:
    """The printed summary of a survey run: figures, ZWARN counts, stage rates, products."""
    from flows.jobs.survey import stage_rates
    from pipeline.assess.metrics import format_table

    ev, card = s["evaluate"], s["train"]
    warnings = ", ".join(f"{k} {v:,}" for k, v in s["score"]["zwarn"].items())
    paths = "\n".join(f"  {name:<15} {path}" for name, path in s["layout"].items() if name != "root")
    return "\n".join([
        f"survey run finished in {seconds / 60:.1f} min",
        f"redshifts of {ev['n']:,} survey spectra: NMAD {ev['nmad']:.5f}, η {ev['eta']:.2%}, bias {ev['bias']:.5f}",
        f"  S/N ≥ 5 ({ev['n_snr5']:,} spectra): NMAD {ev['nmad_snr5']:.5f}, η {ev['eta_snr5']:.2%}; "
        f"68 % intervals hold the truth for {ev['coverage_68']:.1%}",
        f"model: {card.get('epochs')} epochs in {card.get('train_seconds', 0) / 60:.1f} min"
        f"{' (reused)' if card.get('reused') else ''}, stopped by {card.get('stopped_by')}",
        f"ZWARN: {warnings}",
        format_table(stage_rates(s), ["stage", ("seconds", ".1f"), "spectra", "spectra_per_s"]),
        "products:", paths,
        f"  {'report (HTML)':<15} {ev['report']['html']}",
    ])


def _verify(args) -> int:
    from storage import store

    if not store.exists(args.store):
        raise ValueError(f"{args.store} is not a spectra store")
    report = store.verify(args.store)
    print(f"{args.store}: {report.summary()}")
    return 0 if report.ok else 1


def _server(args) -> int:
    from flows.runtime.server import ensure_server, ui_url

    print(f"Prefect UI: {ui_url(ensure_server())}")
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

    gen = sub.add_parser("generate", help="generate a training store of synthetic spectra (Prefect flow on Dask)")
    gen.add_argument("--n", type=int, required=True, help="number of spectra")
    gen.add_argument("--out", required=True, help="Zarr store to write (PATH.zarr)")
    gen.add_argument("--preset", choices=["default", "thesis"], default="default")
    gen.add_argument("--instrument", default="deimos",
                     help="deimos (default), sdss, desi, or a comma list (e.g. deimos,sdss,desi): chunks cycle "
                          "through the instruments")
    gen.add_argument("--kind", choices=["training", "survey"], default="training",
                     help="training (default: noiseless spectra + noise model) or survey (a simulated survey "
                          "store: noisy spectra as `ingest` writes them, plus the truth, to score and evaluate)")
    gen.add_argument("--chunk", type=int, default=None, help="spectra per chunk and per task (default 8192)")
    gen.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--cluster", default=None,
                     help="'local' (default), a scheduler address tcp://..., or a cluster YAML (deploy/dask/)")
    gen.add_argument("--overwrite", action="store_true", help="replace an existing store at --out")
    gen.set_defaults(func=_generate)

    trn = sub.add_parser("train", help="train a network on a training store (Prefect flow)")
    trn.add_argument("--store", required=True, help="training store (from `spectroflow generate`)")
    trn.add_argument("--model", choices=["default", "baseline"], default="default")
    trn.add_argument("--out", default=None, help="model directory (default models/MODEL)")
    trn.add_argument("--max-minutes", type=float, default=None,
                     help="budget of total training minutes, counted across resumed runs")
    trn.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    trn.add_argument("--epochs", type=int, default=100, help="at most this many epochs (early stopping, patience 5)")
    trn.add_argument("--batch-size", type=int, default=None, help="default: 256 (default), 32 (baseline, thesis)")
    trn.add_argument("--seed", type=int, default=0)
    trn.add_argument("--limit", type=int, default=None, help="spectra per epoch (quick runs)")
    trn.set_defaults(func=_train)

    ing = sub.add_parser("ingest", help="survey FITS files -> a survey store on the model grid (Prefect flow)")
    ing.add_argument("files", nargs="+", help="SDSS spec/spec-lite, DESI coadd or 1-D spectrum-table FITS files")
    ing.add_argument("--out", required=True, help="survey store to write (PATH.zarr)")
    ing.add_argument("--format", choices=["auto", "sdss", "desi", "table"], default="auto")
    ing.add_argument("--chunk", type=int, default=None, help="spectra per chunk and per task (default 4096)")
    ing.add_argument("--workers", type=int, default=2)
    ing.add_argument("--cluster", default=None, help="as for generate")
    ing.add_argument("--overwrite", action="store_true")
    ing.set_defaults(func=_ingest)

    sco = sub.add_parser("score", help="score a survey store into a catalogue (Prefect flow on Dask)")
    sco.add_argument("--store", required=True, help="survey store (from `spectroflow ingest`)")
    sco.add_argument("--model", default=weights.DEFAULT,
                     help=f"model directory (from `spectroflow train`) or a shipped model (default: {weights.DEFAULT})")
    sco.add_argument("--out", required=True, help="catalogue directory")
    sco.add_argument("--workers", type=int, default=2)
    sco.add_argument("--cluster", default=None, help="as for generate")
    sco.set_defaults(func=_score)

    ngt = sub.add_parser("nightly", help="ingest and score the survey files that are new since the last run, "
                                          "and rebuild the combined catalogue (Prefect flow on Dask)")
    ngt.add_argument("incoming", nargs="+", help="survey FITS files or glob patterns (quote them: 'incoming/*.fits')")
    ngt.add_argument("--root", required=True, help="directory of the batches, their ledger and the combined catalogue")
    ngt.add_argument("--model", default=weights.DEFAULT, help="as for score")
    ngt.add_argument("--format", choices=["auto", "sdss", "desi", "table"], default="auto")
    ngt.add_argument("--chunk", type=int, default=None, help="spectra per chunk and per task (default 4096)")
    ngt.add_argument("--settle", type=float, default=60.0,
                     help="seconds since a file last changed before it is taken (default 60: still being copied)")
    ngt.add_argument("--workers", type=int, default=2)
    ngt.add_argument("--cluster", default=None, help="as for generate")
    ngt.set_defaults(func=_nightly)

    evl = sub.add_parser("evaluate", help="score a catalogue against the truth of its simulated survey store")
    evl.add_argument("catalogue", help="catalogue directory (from `spectroflow score`)")
    evl.add_argument("--store", default=None, help="survey store with truth (default: the one it was scored from)")
    evl.add_argument("--model", default=None, help="model for the p(z) calibration (default: the one that scored it)")
    evl.add_argument("--out", default=None, help="report directory (default CATALOGUE/report)")
    evl.set_defaults(func=_evaluate)

    for name, help_text, root in (
            ("survey", "the end-to-end flow: generate, train, generate a survey, score, evaluate", "data/survey"),
            ("demo", "the one-command demo: `survey` on the embedded defaults into data/demo", "data/demo")):
        srv = sub.add_parser(name, help=help_text)
        srv.add_argument("--dir", default=root, help=f"directory of every product (default {root})")
        srv.add_argument("--train-n", type=int, default=65_536, help="training spectra (default 65,536)")
        srv.add_argument("--survey-n", type=int, default=32_768, help="survey spectra to score (default 32,768)")
        srv.add_argument("--train-minutes", type=float, default=10.0, help="training time budget (default 10)")
        srv.add_argument("--chunk", type=int, default=None, help="spectra per chunk and per task (default 8192)")
        srv.add_argument("--seed", type=int, default=1, help="training seed; the survey uses seed + 1000")
        srv.add_argument("--workers", type=int, default=2)
        srv.add_argument("--cluster", default=None, help="as for generate")
        srv.add_argument("--fresh", action="store_true", help="redo every stage (default: reuse what is complete)")
        srv.set_defaults(func=_survey)

    ver = sub.add_parser("verify", help="check a store: completeness, checksums, non-finite values")
    ver.add_argument("store")
    ver.set_defaults(func=_verify)

    srv = sub.add_parser("server", help="start (or find) the local Prefect server and print its URL")
    srv.set_defaults(func=_server)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as err:
        print(f"spectroflow {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
