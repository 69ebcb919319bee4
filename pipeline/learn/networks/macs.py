"""Cost of a torch model: multiply-accumulates (MACs) per sample and trainable parameters.

``count_macs`` runs one zero sample through the model with forward hooks on its
leaf modules and adds, per call:

* ``Conv1d`` / ``Conv2d`` / ``Conv3d``: out_channels x (in_channels / groups) x
  prod(kernel) x prod(output spatial size), e.g. for Conv1d
  out_channels x (in_channels / groups) x kernel x output_length;
* ``Linear``: in_features x out_features (x the number of positions, when applied
  to a (B, ..., in_features) input).

Biases are additions, not MACs, and are not counted. BatchNorm and other
normalisations, activations, pooling, dropout, flatten and reshapes count 0 MACs
(they are O(activations), not O(weights x activations)). Work done in a
``forward`` outside a module (``F.conv1d``, ``@``, residual additions) is not seen.
A leaf module holding parameters that is none of the above gets a warning, since
its cost would otherwise be silently missed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import torch
from torch import nn

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
#: Leaf modules with parameters that are known to cost 0 MACs here (see module doc).
_ZERO_COST = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.PReLU, nn.Embedding)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``) of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _conv_macs(module: nn.Conv1d | nn.Conv2d | nn.Conv3d, out: torch.Tensor) -> int:
    """MACs of one conv call on a batch of 1: C_out x C_in/groups x prod(k) x prod(out size)."""
    per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
    return module.out_channels * per_output * math.prod(out.shape[2:])


def _linear_macs(module: nn.Linear, out: torch.Tensor) -> int:
    """MACs of one Linear call on a batch of 1: in x out x positions."""
    positions = out.numel() // module.out_features
    return module.in_features * module.out_features * positions


def _is_leaf(module: nn.Module) -> bool:
    return next(module.children(), None) is None


def _hook(totals: list[int]):
    def hook(module: nn.Module, _inputs, output) -> None:
        if isinstance(module, _CONV):
            totals.append(_conv_macs(module, output))
        elif isinstance(module, nn.Linear):
            totals.append(_linear_macs(module, output))
    return hook


def _warn_uncounted(model: nn.Module) -> None:
    for name, m in model.named_modules():
        counted = isinstance(m, (*_CONV, nn.Linear, *_ZERO_COST))
        if _is_leaf(m) and not counted and any(True for _ in m.parameters(recurse=False)):
            warnings.warn(f"count_macs: {name} ({type(m).__name__}) has parameters but its MACs are not counted",
                          stacklevel=3)


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates for ONE sample of shape ``input_shape`` (no batch dimension,
    e.g. (2, 8912) for a (B, 2, 8912) network input).

    The model is run once in eval mode under ``no_grad`` on zeros of the dtype and
    device of its first parameter; its training flag is restored afterwards.
    """
    _warn_uncounted(model)
    first = next(model.parameters(), None)
    dtype = first.dtype if first is not None else torch.float32
    device = first.device if first is not None else torch.device("cpu")
    totals: list[int] = []
    handles = [m.register_forward_hook(_hook(totals)) for m in model.modules() if isinstance(m, (*_CONV, nn.Linear))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), dtype=dtype, device=device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return int(sum(totals))
