"""p(z) calibration by temperature scaling (Guo et al. 2017, "On Calibration of Modern
Neural Networks", ICML, section 4.2).

The network learns p(u) against soft targets one bin wide (``pz.ZBins.soft_targets``),
so its p(z) cannot be narrower than those targets even where its errors are smaller,
and may be too narrow where they are larger. One scalar T, fitted on the validation
split by minimising the negative log-likelihood of the true bin, rescales the logits:
p_T = softmax(logits / T). T < 1 sharpens, T > 1 broadens. The argmax is unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

#: Search range and resolution for T (log-spaced grid, then a finer one around the best).
T_RANGE = (0.02, 20.0)
GRID = 41


def nll(logits: torch.Tensor, true_bin: torch.Tensor, temperature: float) -> float:
    """Mean negative log-probability of the true bin under softmax(logits / T)."""
    logp = torch.log_softmax(logits / temperature, dim=1)
    return float(-logp.gather(1, true_bin[:, None]).mean())


def fit_temperature(log_prob: np.ndarray, true_u: np.ndarray, edges: np.ndarray) -> float:
    """T minimising the validation NLL.

    log_prob: (N, n_bins) logits or log p(u) (any per-row constant); true_u: (N,)
    ln(1+z_true); edges: (n_bins + 1,) bin edges in u. Truths outside the bins are
    ignored.
    """
    inside = (true_u >= edges[0]) & (true_u < edges[-1])
    logits = torch.from_numpy(np.asarray(log_prob[inside], dtype=np.float32))
    true_bin = torch.from_numpy(np.searchsorted(edges, true_u[inside], side="right") - 1)
    lo, hi = np.log(T_RANGE)
    for _ in range(2):
        grid = np.linspace(lo, hi, GRID)
        scores = [nll(logits, true_bin, float(np.exp(t))) for t in grid]
        best = int(np.argmin(scores))
        step = grid[1] - grid[0]
        lo, hi = grid[best] - step, grid[best] + step
    return float(np.exp(grid[best]))
