"""Temperature scaling recovers the width mismatch of a Gaussian p(u)."""

import numpy as np
import pytest
import torch

from pipeline.learn.calibration import fit_temperature, nll
from pipeline.learn.pz import ZBins


@pytest.mark.parametrize("true_width", [0.5, 1.0, 2.0])
def test_fitted_temperature_matches_the_width_ratio(true_width):
    """Predicted p(u) is Gaussian with sigma = 2 bins; truths scatter by true_width x that,
    so the calibrated width sigma sqrt(T) must equal the scatter: T = true_width**2."""
    bins, rng = ZBins(), np.random.default_rng(1)
    sigma = 2 * bins.step
    centre = rng.uniform(0.5, 1.5, 5_000)
    truth = centre + rng.normal(0, true_width * sigma, centre.size)
    log_p = -0.5 * ((bins.centres[None, :] - centre[:, None]) / sigma) ** 2
    t = fit_temperature(log_p, truth, bins.edges)
    assert t == pytest.approx(true_width**2, rel=0.1)


def test_nll_is_lowest_at_the_fitted_temperature():
    bins, rng = ZBins(), np.random.default_rng(2)
    centre = rng.uniform(0.5, 1.5, 5_000)
    truth = centre + rng.normal(0, bins.step, centre.size)
    log_p = -0.5 * ((bins.centres[None, :] - centre[:, None]) / (3 * bins.step)) ** 2
    t = fit_temperature(log_p, truth, bins.edges)
    logits = torch.from_numpy(log_p.astype(np.float32))
    true_bin = torch.from_numpy(np.searchsorted(bins.edges, truth, side="right") - 1)
    assert nll(logits, true_bin, t) < min(nll(logits, true_bin, 1.0), nll(logits, true_bin, t * 2),
                                          nll(logits, true_bin, t / 2))
