"""A trained model directory, loaded once per process, and its identity.

A model directory holds ``model.pt`` and ``card.json`` (``pipeline.learn.training``
writes both); the shipped ones live in ``pipeline.learn.weights``. Scoring and
evaluation load a model once per worker process and reuse it for every chunk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.learn.networks import build_from_card, task_from_card
from pipeline.learn.training import load_model, read_card, resolve_device

_LOADED: dict = {}


@dataclass(frozen=True)
class LoadedModel:
    """A network ready to predict: ``task`` feeds and reads it, ``card`` describes it,
    ``id`` names the weights (``<task>-<sha256 of model.pt, 12 hex digits>``)."""

    task: object
    model: object
    card: dict
    id: str


def model_id(model_dir) -> str:
    """``<task>-<first 12 hex digits of model.pt's SHA-256>``: the same weights, the same id."""
    card = read_card(model_dir)
    digest = hashlib.sha256(Path(model_dir, "model.pt").read_bytes()).hexdigest()[:12]
    return f"{card['task']}-{digest}"


def loaded_model(model_dir, wavelength: np.ndarray) -> LoadedModel:
    """The model in ``model_dir`` for inputs on ``wavelength`` (Å, (npix,)), loaded once per
    process (again if ``model.pt`` changes); on CUDA where present."""
    key = (str(Path(model_dir).resolve()), Path(model_dir, "model.pt").stat().st_mtime_ns)
    if key not in _LOADED:
        model, card = load_model(model_dir, build_from_card, device=resolve_device("auto"))
        _LOADED[key] = LoadedModel(task_from_card(card, wavelength), model, card, model_id(model_dir))
    return _LOADED[key]
