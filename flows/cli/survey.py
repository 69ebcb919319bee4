"""``spectroflow survey`` and ``spectroflow demo``: the end-to-end flow (generate, train,
generate a survey, score, evaluate); ``demo`` is ``survey`` into data/demo."""

from __future__ import annotations

import os
import time

from flows.cli.common import INTERRUPTED, PRESETS, add_chunk, add_cluster, add_workers, with_prefect

#: (command, help, default --dir): the two differ only in where their products go.
VARIANTS = (
    ("survey", "the end-to-end flow: generate, train, generate a survey, score, evaluate", "data/survey"),
    ("demo", "the one-command demo: `survey` on the embedded defaults into data/demo", "data/demo"),
)


def add_command(sub) -> None:
    """Add ``survey`` and ``demo`` with their (shared) options."""
    for name, help_text, root in VARIANTS:
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("--dir", default=root, help=f"directory of every product (default {root})")
        parser.add_argument("--train-n", type=int, default=65_536, help="training spectra (default 65,536)")
        parser.add_argument("--survey-n", type=int, default=32_768, help="survey spectra to score (default 32,768)")
        parser.add_argument("--train-minutes", type=float, default=10.0, help="training time budget (default 10)")
        add_chunk(parser, 8192)
        parser.add_argument("--seed", type=int, default=1, help="training seed; the survey uses seed + 1000")
        add_workers(parser)
        add_cluster(parser)
        parser.add_argument("--fresh", action="store_true", help="redo every stage (default: reuse what is complete)")
        parser.add_argument("--preset", choices=list(PRESETS), default="survey",
                            help="simulation preset of both stores (default survey: galaxies, quasars, stars and "
                                 "sky fibres)")
        parser.set_defaults(func=run)


def run(args) -> int:
    """Run (or go on with) every stage in ``--dir`` and print :func:`survey_summary`."""
    from flows.jobs.survey import SurveyRequest

    request = SurveyRequest(args.dir, args.train_n, args.survey_n, args.train_minutes, args.chunk or 8192,
                            args.seed, args.fresh, args.preset)
    request.check()  # before any server or worker starts

    def flow():
        from flows.runtime.cluster import cluster_for, is_local
        from flows.score import local_threads
        from flows.survey import survey

        threads = local_threads(args.workers) if is_local(args.cluster) else 1
        with cluster_for(args.cluster, args.workers) as cluster:
            return survey(**vars(request), cluster=cluster, workers=args.workers, threads=threads,
                          root_name=os.path.basename(os.path.abspath(args.dir)))

    start = time.perf_counter()
    s = with_prefect(f"survey run in {args.dir}: {request.train_n:,} training spectra, {request.train_minutes:g} min "
                     f"of training, {request.survey_n:,} survey spectra", flow,
                     "rerun the same command to go on (complete stages are reused)")
    if s is None:
        return INTERRUPTED
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
        *(["classes: " + "; ".join(f"{c['class']} completeness {c['completeness']:.1%}, purity {c['purity']:.1%}"
                                    for c in ev["classes"])] if ev.get("classes") else []),
        f"ZWARN: {warnings}",
        format_table(stage_rates(s), ["stage", ("seconds", ".1f"), "spectra", "spectra_per_s"]),
        "products:", paths,
        f"  {'report (HTML)':<15} {ev['report']['html']}",
    ])
