"""Flux-conserving resampling with inverse-variance propagation."""

import numpy as np

from pipeline.sampling.resample import edges_from_centres, resample


def test_constant_spectrum_stays_constant_and_integrated_flux_is_conserved():
    wave = np.linspace(4000.0, 5000.0, 1001)  # 1 Å pixels
    out_edges = np.geomspace(4100.0, 4900.0, 301)
    flux = 3.0 + np.sin(wave / 7.0)
    f, iv = resample(wave, flux[None, :], np.ones((1, wave.size)), out_edges)
    in_edges = edges_from_centres(wave)
    inside = (in_edges[:-1] >= 4100.0) & (in_edges[1:] <= 4900.0)
    np.testing.assert_allclose((f[0] * np.diff(out_edges)).sum(), (flux[inside] * np.diff(in_edges)[inside]).sum(),
                               rtol=2e-3)
    g, _ = resample(wave, np.full((1, wave.size), 2.5), np.ones((1, wave.size)), out_edges)
    np.testing.assert_allclose(g, 2.5, rtol=1e-6)
    assert np.all(iv > 0)


def test_inverse_variance_of_merged_pixels_adds_up():
    wave = np.arange(1000.0, 1100.0)  # 1 Å pixels, ivar 4 each (sigma 0.5)
    out_edges = np.arange(1010.0, 1090.0, 4.0) - 0.5  # 4 whole input pixels per output pixel
    _, iv = resample(wave, np.ones((1, wave.size)), np.full((1, wave.size), 4.0), out_edges)
    np.testing.assert_allclose(iv, 16.0, rtol=1e-9)  # mean of 4: variance / 4


def test_bad_pixels_are_skipped_and_uncovered_pixels_get_zero_ivar():
    wave = np.arange(1000.0, 1100.0)
    flux = np.ones((2, wave.size))
    ivar = np.ones((2, wave.size))
    flux[0, 50] = np.nan
    ivar[1, 40:60] = 0.0
    out_edges = np.arange(990.0, 1110.0, 2.0) - 0.5
    f, iv = resample(wave, flux, ivar, out_edges)
    assert np.isfinite(f).all() and np.isfinite(iv).all()
    np.testing.assert_allclose(f[iv > 0], 1.0)
    outside = (out_edges[1:] <= 999.5) | (out_edges[:-1] >= 1099.5)  # beyond the input pixels' edges
    assert outside.sum() >= 8 and np.all(iv[:, outside] == 0) and np.all(iv[:, ~outside][0] > 0)
    assert np.all(iv[1, 26:34] == 0)  # the masked stretch
