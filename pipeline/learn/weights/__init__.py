"""Trained models shipped inside the package (no download at run time).

Each shipped model is a directory ``pipeline/learn/weights/<name>/`` holding ``model.pt``
(state dict, loaded with ``weights_only=True``) and ``card.json`` (architecture,
training store and settings, held-out metrics), exactly as ``spectroflow train``
writes them. ``survey`` is the default for ``spectroflow score``: the ``default``
network trained on the ``default`` preset with DEIMOS, SDSS and DESI coverage.
``survey-classes`` is the same network with a class head (GALAXY / QSO / STAR / SKY),
trained on the ``survey`` preset: it gives SPECTYPE, SUBTYPE and the class
probabilities, and is not yet the default because its galaxy redshifts are less
precise than ``survey``'s (README, "The shipped models").
"""

from __future__ import annotations

from pathlib import Path

SHIPPED = ("survey", "survey-classes")
DEFAULT = "survey"


def shipped_dir(name: str) -> Path:
    """Directory of the shipped model ``name``."""
    if name not in SHIPPED:
        raise ValueError(f"no shipped model {name!r}; shipped: {', '.join(SHIPPED)}")
    return Path(__file__).parent / name


def resolve(model: str) -> str:
    """A model directory from ``model``: an existing directory, or a shipped model's name."""
    if Path(model).is_dir():
        return str(model)
    if model in SHIPPED:
        return str(shipped_dir(model))
    raise ValueError(f"--model {model!r} is neither a model directory (from `spectroflow train`) "
                     f"nor a shipped model ({', '.join(SHIPPED)})")
