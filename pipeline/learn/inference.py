"""Predictions for batches of spectra on the CPU (or the model's device), in bfloat16
where the device has it natively (``pipeline.learn.precision``), else float32.

The network's activations for 256 rows fit a core's cache; forward passes over 1,024
rows at once ran ~2-3x slower per spectrum on these CPUs (measured: 334 ms vs 114 ms
per 1,024 spectra for the default network, one thread, bf16), so a batch of any size
goes through the network in slices of ``NET_BATCH`` rows.
"""

from __future__ import annotations

import numpy as np
import torch

from pipeline.learn.precision import use_bf16

#: Rows per forward pass (see module doc).
NET_BATCH = 256


def forward(model, x: torch.Tensor):
    """model(x) computed ``NET_BATCH`` rows at a time on the model's device (CPU or
    CUDA); outputs as one model(x) would give them (a tensor or a tuple of tensors)."""
    x = x.to(next(model.parameters()).device)
    with torch.inference_mode(), torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=use_bf16(x.device)):
        parts = [model(part) for part in x.split(NET_BATCH)]
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(p) for p in zip(*parts))
    return torch.cat(parts)


def predict(task, model, flux: np.ndarray, ivar: np.ndarray) -> dict[str, np.ndarray]:
    """The task's predictions (name -> (B, ...) arrays) for flux, ivar (B, npix)."""
    outputs = forward(model, torch.from_numpy(task.inputs(flux, ivar)))
    with torch.inference_mode():
        return task.predict(outputs)
