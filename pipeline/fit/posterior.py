"""The refined p(z): a mixture of one Gaussian per fitted peak.

After the template fit (``pipeline.fit.refine``), the redshift posterior is summarised
as a mixture over the K fitted peaks of the network's p(z): peak k has mean z_k (its
refined redshift), width sigma_k (its ZERR) and weight

    w_k  proportional to  p_k exp(-(chi2_k - chi2_min) / (2 s)),

p_k the network's probability of the peak (the prior), chi2_k its fit's minimum and
s = max(1, reduced chi2 of the best fit) -- the errors inflated until the best fit is
acceptable, as ZERR is. Its 16/84 % quantiles are the catalogue's Z_LO/Z_HI and its CDF
at the true redshift is the PIT of evaluation. Pure numpy, vectorised over spectra.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

#: Bisection steps for the quantiles (the bracket shrinks 2^-60-fold: exact in float64).
_BISECTIONS = 60
#: Quantiles below/above the mixture are searched within this many sigmas of its peaks.
_SPAN_SIGMAS = 10.0


def weights(chi2: np.ndarray, prob: np.ndarray, scale: np.ndarray, floor: float) -> np.ndarray:
    """(B, K) peak weights from the peaks' χ² minima (inf: not fitted), network
    probabilities ``prob`` (floored at ``floor``) and the χ² scale s (B,); rows sum to 1
    (all-zero rows where no peak was fitted)."""
    score = (np.asarray(chi2, np.float64) / np.asarray(scale, np.float64)[:, None]
             - 2 * np.log(np.maximum(prob, floor)))
    finite = np.isfinite(score)
    best = np.where(finite, score, np.inf).min(axis=1, keepdims=True)
    w = np.where(finite, np.exp(-0.5 * (np.where(finite, score, 0.0) - np.where(np.isfinite(best), best, 0.0))), 0)
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def cdf(z: np.ndarray, mean: np.ndarray, sigma: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The mixtures' CDF (B,) at z (B,); mean, sigma, w (B, K)."""
    return (w * ndtr((np.asarray(z)[:, None] - mean) / sigma)).sum(axis=1)


def quantiles(mean: np.ndarray, sigma: np.ndarray, w: np.ndarray, qs) -> list[np.ndarray]:
    """z (B,) at each cumulative probability in ``qs``, by bisection of ``cdf``."""
    used = w > 0
    lo = np.where(used, mean - _SPAN_SIGMAS * sigma, np.inf).min(axis=1)
    hi = np.where(used, mean + _SPAN_SIGMAS * sigma, -np.inf).max(axis=1)
    empty = ~used.any(axis=1)
    lo, hi = np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)
    out = []
    for q in qs:
        a, b = lo.copy(), hi.copy()
        for _ in range(_BISECTIONS):
            mid = 0.5 * (a + b)
            below = cdf(mid, mean, sigma, w) < q
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        out.append(0.5 * (a + b))
    return out
