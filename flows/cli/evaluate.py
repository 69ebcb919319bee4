"""``spectroflow evaluate``: a catalogue scored against the truth of its simulated survey store."""

from __future__ import annotations

from flows.cli.common import INTERRUPTED, with_prefect


def add_command(sub) -> None:
    """Add ``evaluate`` and its options."""
    parser = sub.add_parser("evaluate", help="score a catalogue against the truth of its simulated survey store")
    parser.add_argument("catalogue", help="catalogue directory (from `spectroflow score`)")
    parser.add_argument("--store", default=None,
                        help="survey store with truth (default: the one it was scored from)")
    parser.add_argument("--model", default=None,
                        help="model for the p(z) calibration (default: the one that scored it)")
    parser.add_argument("--out", default=None, help="report directory (default CATALOGUE/report)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Evaluate the catalogue, write its report and print the headline figures."""
    from flows.jobs.evaluate import EvaluateRequest

    request = EvaluateRequest(args.catalogue, args.store, args.model, args.out).resolved()

    def flow():
        from flows.evaluate import run_evaluate

        return run_evaluate(request)

    s = with_prefect(f"evaluating {args.catalogue} against the truth in {request.store}", flow,
                     "rerun the same command")
    if s is None:
        return INTERRUPTED
    print(f"NMAD {s['nmad']:.5f}, η {s['eta']:.2%} over {s['n']:,} spectra; S/N ≥ 5: NMAD {s['nmad_snr5']:.5f}, "
          f"η {s['eta_snr5']:.2%} ({s['n_snr5']:,} spectra)\nreport: {s['report']['html']} and "
          f"{s['report']['markdown']}")
    return 0
