"""Training loop: device-agnostic, early stopping, resumable checkpoints, time budget.

A *task* (``networks.<name>.<Name>Task``) says how a network is fed and scored:
``inputs(flux, ivar)``, ``targets(labels)``, ``loss(outputs, targets)``,
``predict(outputs)``, ``build(n_pixels)`` and ``card()``. Batches are any iterable
of objects with ``flux``, ``ivar`` (B, npix) arrays and a ``labels`` dict (see
``storage.loader``), so this module needs no store.

A checkpoint directory holds ``model.pt`` (best weights: a plain state dict loaded
with ``weights_only=True``), ``last.pt`` (weights, optimiser and loop state, to
resume) and ``card.json`` (architecture, configs, data provenance, metrics, code
version). A corrupt or mismatched checkpoint raises ``CheckpointError`` saying
which file and why.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from pipeline.learn.precision import use_bf16
from pipeline.physics.spectypes import CODES as SPECTYPE_CODES

CARD, BEST, LAST = "card.json", "model.pt", "last.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, with the file and the reason."""


@dataclass
class TrainConfig:
    """Training settings (thesis defaults for ``baseline``: Adam 1e-3, batch 32, patience 5)."""

    batch_size: int = 256
    lr: float = 1e-3
    max_epochs: int = 100
    patience: int = 5
    max_minutes: float | None = None
    device: str = "auto"
    bf16: bool = True
    seed: int = 0


def resolve_device(name: str = "auto") -> torch.device:
    """"auto": CUDA when present, else CPU; "cuda" without a GPU raises ValueError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available; use --device auto or cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r}: choose auto, cpu or cuda")
    return torch.device(name)


def _tensor(a: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).to(device, non_blocking=True)


def _autocast(device: torch.device, enabled: bool | None):
    """bf16 autocast if ``enabled``; None: where the device has bf16 natively."""
    return torch.autocast(device.type, dtype=torch.bfloat16,
                          enabled=use_bf16(device) if enabled is None else enabled)


def run_batches(task, model, batches, device, bf16: bool | None, train_step=None):
    """Forward every batch; with ``train_step`` (a callable taking the loss) also
    optimise. Yields (batch, outputs, loss) per batch."""
    for batch in batches:
        inputs = getattr(batch, "inputs", None)
        x = _tensor(inputs if inputs is not None else task.inputs(batch.flux, batch.ivar), device)
        targets = {k: _tensor(v, device) for k, v in task.targets(batch.labels).items()}
        with _autocast(device, bf16):
            outputs = model(x)
            loss = task.loss(outputs, targets)
        if train_step is not None:
            train_step(loss)
        yield batch, outputs, float(loss.detach())


def evaluate(task, model, batches, device, bf16: bool | None = None, keep_pz: bool = False) -> dict[str, np.ndarray]:
    """Predictions and truths over ``batches`` (concatenated), plus the mean loss;
    ``keep_pz`` keeps the full p(z) arrays (B x bins) too."""
    model.eval()
    parts, losses = [], []
    with torch.inference_mode():
        for batch, outputs, loss in run_batches(task, model, batches, device, bf16):
            pred = task.predict(outputs)
            if not keep_pz:
                pred.pop("pz", None)
            parts.append({**pred, **{f"true_{k}": v for k, v in batch.labels.items()}})
            losses.append((loss, len(batch.flux)))
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    n = sum(w for _, w in losses)
    out["loss"] = np.array(sum(l * w for l, w in losses) / max(n, 1))
    return out


def with_redshift(result: dict) -> dict:
    """The rows of an ``evaluate`` result that have a redshift to score: all but sky
    fibres (``spectypes.py``; every row where there is no ``true_spectype``)."""
    kind = result.get("true_spectype")
    if kind is None:
        return result
    keep = kind != SPECTYPE_CODES["SKY"]
    return {k: v[keep] if np.ndim(v) and len(v) == len(kind) else v for k, v in result.items()}


def fit(task, model, train_batches, val_batches, config: TrainConfig, out_dir, card_extra: dict | None = None,
        log=print) -> dict:
    """Train ``model`` until early stopping, ``max_epochs`` or ``max_minutes``; resume
    from ``out_dir/last.pt`` if present. ``train_batches`` / ``val_batches`` are
    re-iterable and may have an ``epoch`` attribute (set before each epoch, for fresh
    noise and order). Returns the model card (also written to ``out_dir``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    # CUDA runs in fp32 here; a CPU without native bf16 too (pipeline/learn/precision.py)
    bf16 = config.bf16 and device.type == "cpu" and use_bf16(device)
    torch.manual_seed(config.seed)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    state = {"epoch": 0, "best_loss": math.inf, "best_epoch": -1, "bad_epochs": 0, "history": [], "seconds": 0.0}
    if (out / LAST).exists():
        state = _resume(out, model, optimizer, device)
        log(f"resuming after epoch {state['epoch']} (best val loss {state['best_loss']:.4f})")
    card = {**(card_extra or {}), **task.card(), "model": model.config, "train_config": asdict(config),
            "device": str(device), "bf16": bf16}
    start = time.monotonic() - state["seconds"]
    budget = None if config.max_minutes is None else 60.0 * config.max_minutes
    while state["epoch"] < config.max_epochs and state["bad_epochs"] < config.patience:
        epoch_start = time.monotonic()
        train_loss, stopped = _train_epoch(task, model, optimizer, train_batches, state["epoch"], device, bf16,
                                           start, budget)
        val = _validate(task, model, val_batches, device, bf16)
        state["epoch"] += 1
        state["seconds"] = time.monotonic() - start
        _record(state, train_loss, val, time.monotonic() - epoch_start)
        improved = state["bad_epochs"] == 0
        if improved:
            torch.save(model.state_dict(), out / BEST)
        _save_last(out, model, optimizer, state)
        card.update(_card_progress(state))
        (out / CARD).write_text(json.dumps(card, indent=2, default=float))
        log(_epoch_line(state, improved))
        if stopped or (budget and state["seconds"] + (time.monotonic() - epoch_start) > budget):
            log(f"stopping: time budget of {config.max_minutes} min reached")
            card["stopped_by"] = "time budget"
            break
    else:
        card["stopped_by"] = "early stopping" if state["bad_epochs"] >= config.patience else "max epochs"
    model.load_state_dict(torch.load(out / BEST, map_location=device, weights_only=True))
    if hasattr(task, "temperature"):
        card["pz_temperature"] = calibrate(task, model, val_batches, device, bf16)
        log(f"p(z) temperature {card['pz_temperature']:.3f} (fitted on the validation split)")
    (out / CARD).write_text(json.dumps(card, indent=2, default=float))
    return card


def calibrate(task, model, val_batches, device, bf16: bool | None = None) -> float:
    """Fit and set ``task.temperature`` on the validation batches (pipeline/learn/calibration.py)."""
    from pipeline.learn.calibration import fit_temperature

    task.temperature = 1.0
    val = with_redshift(evaluate(task, model, val_batches, device, bf16, keep_pz=True))
    log_p = np.log(np.maximum(val["pz"], 1e-30))
    task.temperature = fit_temperature(log_p, np.log1p(val["true_z"]), task.bins.edges)
    return task.temperature


def _train_epoch(task, model, optimizer, batches, epoch, device, bf16, start, budget):
    """One pass over the training batches; stops early (returns stopped=True) when
    the time budget runs out mid-epoch."""
    model.train()
    if hasattr(batches, "epoch"):
        batches.epoch = epoch

    def step(loss):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    total, n = 0.0, 0
    for batch, _, loss in run_batches(task, model, batches, device, bf16, train_step=step):
        total += loss * len(batch.flux)
        n += len(batch.flux)
        if budget and time.monotonic() - start > budget:
            return total / max(n, 1), True
    return total / max(n, 1), False


def _validate(task, model, batches, device, bf16) -> dict:
    from pipeline.assess.metrics import redshift_metrics

    result = evaluate(task, model, batches, device, bf16)
    kept = with_redshift(result)
    scores = redshift_metrics(kept["z"], kept["true_z"]) if "z" in result else {}
    return {"loss": float(result["loss"]), **{k: scores[k] for k in ("nmad", "eta", "bias") if k in scores}}


def _record(state: dict, train_loss: float, val: dict, seconds: float) -> None:
    state["history"].append({"epoch": state["epoch"], "train_loss": train_loss, "seconds": seconds,
                             **{f"val_{k}": v for k, v in val.items()}})
    if val["loss"] < state["best_loss"]:
        state.update(best_loss=val["loss"], best_epoch=state["epoch"], bad_epochs=0)
    else:
        state["bad_epochs"] += 1


def _card_progress(state: dict) -> dict:
    best = next((h for h in state["history"] if h["epoch"] == state["best_epoch"]), {})
    return {"epochs": state["epoch"], "best_epoch": state["best_epoch"], "train_seconds": state["seconds"],
            "history": state["history"], "val_metrics": {k[4:]: v for k, v in best.items() if k.startswith("val_")}}


def _epoch_line(state: dict, improved: bool) -> str:
    h = state["history"][-1]
    scores = "".join(f" val {k[4:]} {h[k]:.4f}" for k in ("val_nmad", "val_eta") if k in h)
    return (f"epoch {h['epoch']}: train loss {h['train_loss']:.4f}, val loss {h['val_loss']:.4f}{scores}"
            f" ({h['seconds']:.0f} s){' *' if improved else ''}")


def _save_last(out: Path, model, optimizer, state) -> None:
    tmp = out / (LAST + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "state": json.dumps(state, default=float)}, tmp)
    tmp.replace(out / LAST)  # atomic: a kill mid-save leaves the previous checkpoint


def _resume(out: Path, model, optimizer, device) -> dict:
    saved = _load(out / LAST, device)
    _load_weights(model, saved["model"], out / LAST)
    optimizer.load_state_dict(saved["optimizer"])
    return json.loads(saved["state"])


def _load(path: Path, device):
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; is this a spectroflow model directory?") from None
    except Exception as err:  # torch raises several types for damaged files
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from err


def _load_weights(model, state_dict, path: Path) -> None:
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as err:
        first = str(err).splitlines()[0:3]
        raise CheckpointError(f"{path}: weights do not fit this architecture ({' '.join(first)})") from err


def read_card(model_dir) -> dict:
    """The model card of a checkpoint directory (CheckpointError if unreadable)."""
    path = Path(model_dir) / CARD
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing; is this a spectroflow model directory?") from None
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from err


def load_model(model_dir, build, device="cpu"):
    """(model, card): ``build(card)`` makes the architecture the card describes; the
    best weights are loaded into it (``weights_only=True``) and it is put in eval mode."""
    card = read_card(model_dir)
    model = build(card)
    path = Path(model_dir) / BEST
    _load_weights(model, _load(path, torch.device(device)), path)
    return model.to(device).eval(), card
