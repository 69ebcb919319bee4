"""``spectroflow train``: a network trained on a training store."""

from __future__ import annotations

from flows.cli.common import INTERRUPTED, with_prefect


def add_command(sub) -> None:
    """Add ``train`` and its options."""
    parser = sub.add_parser("train", help="train a network on a training store (Prefect flow)")
    parser.add_argument("--store", required=True, help="training store (from `spectroflow generate`)")
    parser.add_argument("--model", choices=["default", "baseline"], default="default")
    parser.add_argument("--out", default=None, help="model directory (default models/MODEL)")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="budget of total training minutes, counted across resumed runs")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--epochs", type=int, default=100,
                        help="at most this many epochs (early stopping, patience 5)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 256 (default), 32 (baseline, thesis)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="spectra per epoch (quick runs)")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Train (or resume training) ``--model`` into ``--out`` and print its model card's figures."""
    from flows.jobs.train import TrainRequest

    request = TrainRequest(args.store, args.model, args.out or f"models/{args.model}", args.max_minutes,
                           args.device, args.epochs, args.batch_size, args.seed, args.limit)
    request.check()  # before any server starts

    def flow():
        from flows.train import train

        return train(**{k: v for k, v in vars(request).items() if k != "extra"})

    card = with_prefect(f"training {args.model} on {args.store} into {request.out}", flow,
                        f"rerun the same command to resume from {request.out}/last.pt")
    if card is None:
        return INTERRUPTED
    metrics = ", ".join(f"{k} {v:.4f}" for k, v in card["val_metrics"].items())
    print(f"trained {args.model} for {card['epochs']} epochs ({card['train_seconds'] / 60:.1f} min, stopped by "
          f"{card.get('stopped_by')}); best epoch {card['best_epoch']}: validation {metrics}; model in {request.out}")
    return 0
