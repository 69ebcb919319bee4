"""p(z) summaries on bins of ln(1+z)."""

import numpy as np

from pipeline.learn.pz import ZBins, summarise


def gaussian(bins, u0, sigma):
    p = np.exp(-0.5 * ((bins.centres - u0) / sigma) ** 2)
    return p / p.sum()


def test_single_peak_gives_its_mean_width_and_68_percent_interval():
    bins = ZBins()
    u0, sigma = np.log1p(1.2345), 0.004  # two bins wide
    s = summarise(gaussian(bins, u0, sigma)[None, :], bins)
    assert abs(s.z[0] - 1.2345) < 1e-4
    np.testing.assert_allclose(s.zerr[0], (1 + 1.2345) * sigma, rtol=0.05)
    np.testing.assert_allclose([np.log1p(s.z_lo[0]), np.log1p(s.z_hi[0])], [u0 - sigma, u0 + sigma], atol=3e-4)
    assert s.p1[0] > 0.99 and s.p2[0] < 0.01


def test_two_peaks_give_the_secondary_redshift_and_its_probability():
    bins = ZBins()
    p = 0.7 * gaussian(bins, np.log1p(0.8), 0.003) + 0.3 * gaussian(bins, np.log1p(3.1), 0.003)
    s = summarise(p[None, :], bins)
    assert abs(s.z[0] - 0.8) < 1e-3 and abs(s.z2[0] - 3.1) < 3e-3
    np.testing.assert_allclose([s.p1[0], s.p2[0]], [0.7, 0.3], atol=0.01)
    assert s.z_lo[0] < 0.8 and s.z_hi[0] > 3.0  # the 68 % interval spans both peaks


def test_soft_targets_are_normalised_and_centred():
    bins = ZBins()
    t = bins.soft_targets(np.array([0.5, 4.0]))
    np.testing.assert_allclose(t.sum(axis=1), 1.0)
    centre = (t * bins.centres).sum(axis=1)
    np.testing.assert_allclose(centre, np.log1p([0.5, 4.0]), atol=1e-4)


def test_peak_at_the_grid_edge_does_not_double_count():
    bins = ZBins()
    p = np.zeros(bins.n)
    p[0] = 1.0
    s = summarise(p[None, :], bins)
    np.testing.assert_allclose(s.p1, 1.0)
    assert s.z[0] >= 0
