"""Network registry: each name maps to a *task* class that builds its network and
says how it is fed, trained and read (see ``pipeline.learn.training``).

``make_task(name, wavelength, label_stats)`` gives a fresh task for training;
``task_from_card(card, wavelength)`` the same task for a trained model.
"""

from __future__ import annotations

import numpy as np

from pipeline.learn.networks.baseline import BaselineCNN, BaselineTask
from pipeline.learn.networks.default import DefaultNet, DefaultTask

NETWORKS = {"baseline": BaselineCNN, "default": DefaultNet}


def make_task(name: str, wavelength: np.ndarray, label_stats: dict | None = None, classes=None):
    """The task of network ``name`` for a store with grid ``wavelength`` (npix,); ``classes``:
    SPECTYPE names for a class head (the default network only)."""
    if name == "default":
        return DefaultTask(label_stats or {}, classes=classes)
    if name == "baseline":
        return BaselineTask(wavelength)
    raise ValueError(f"unknown network {name!r}; choose from {sorted(NETWORKS)}")


def task_from_card(card: dict, wavelength: np.ndarray):
    """The task a model card describes."""
    task = card.get("task")
    if task not in NETWORKS:
        raise ValueError(f"model card names network {task!r}; this version knows {sorted(NETWORKS)}")
    made = make_task(task, wavelength, card.get("label_stats"), card.get("classes"))
    if "pz_temperature" in card:
        made.temperature = float(card["pz_temperature"])
    return made


def build(name: str, **config):
    """An instance of network ``name`` built with keyword ``config``."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; choose from {sorted(NETWORKS)}")
    return NETWORKS[name](**config)


def build_from_card(card: dict):
    """The untrained network a model card describes (its ``task`` and ``model`` config)."""
    if card.get("task") not in NETWORKS:
        raise ValueError(f"model card names network {card.get('task')!r}; this version knows {sorted(NETWORKS)}")
    return NETWORKS[card["task"]](**card["model"])
