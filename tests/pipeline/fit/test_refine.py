"""The template fit: sub-pixel shifts, ambiguous blends and wrong network peaks."""

import numpy as np
import pytest

from pipeline.assess import zwarning
from pipeline.fit.refine import refine, refine_pz
from pipeline.fit.templates import line_names, load_basis
from pipeline.learn.pz import ZBins
from pipeline.sampling.grid import model_grid

GRID = model_grid()


def spectrum(coeff, z, basis):
    """Noiseless flux (npix,) of the basis with ``coeff`` at redshift ``z``, the templates
    interpolated linearly to the exact (fractional) shift."""
    x = np.arange(GRID.n) + basis.offset - np.log1p(z) / basis.dln
    i0 = np.floor(x).astype(int)
    frac = x - i0
    segment = basis.flux[:, i0] * (1 - frac) + basis.flux[:, i0 + 1] * frac
    return (np.asarray(coeff) @ segment).astype(np.float32)


def coefficients(basis, continuum=1.0, lines=0.3):
    """A galaxy-like mixture: the mean continuum component and every emission-line group."""
    c = np.zeros(basis.n)
    c[0] = continuum
    c[basis.n_continuum:basis.n_continuum + len(line_names())] = lines
    return c


@pytest.fixture(scope="module")
def basis():
    return load_basis()


def noisy(flux, snr, rng):
    sigma = np.full(flux.shape, np.abs(flux).mean() / snr, np.float32)
    return flux + rng.normal(size=flux.shape).astype(np.float32) * sigma, 1.0 / sigma**2


def test_recovers_a_sub_pixel_shift(basis):
    rng = np.random.default_rng(0)
    z0 = np.expm1(1000.0 * basis.dln)
    offsets = np.array([0.0, 0.25, 0.5, 0.7])
    z = np.expm1(np.log1p(z0) + offsets * basis.dln)
    flux = np.stack([spectrum(coefficients(basis), zi, basis) for zi in z])
    flux, ivar = noisy(flux, 200.0, rng)
    fit = refine(flux, ivar, np.log1p(z0)[None, None] * np.ones((len(z), 1)))
    shift = (np.log1p(fit.z) - np.log1p(z)) / basis.dln
    assert np.all(np.abs(shift) < 0.1), shift
    assert fit.bracketed.all() and np.all(fit.zerr > 0)


def test_pulls_back_a_network_peak_ten_pixels_off(basis):
    rng = np.random.default_rng(1)
    z = np.array([0.3, 0.8, 1.4])
    flux = np.stack([spectrum(coefficients(basis), zi, basis) for zi in z])
    flux, ivar = noisy(flux, 20.0, rng)
    for off in (-10, 10):
        fit = refine(flux, ivar, (np.log1p(z) + off * basis.dln)[:, None])
        assert np.all(np.abs(np.log1p(fit.z) - np.log1p(z)) / basis.dln < 0.3)


def test_two_galaxies_at_two_redshifts_are_ambiguous(basis):
    """A blend of the same galaxy at two redshifts fits either equally well: DELTACHI2
    is small and SMALL_DELTA_CHI2 set; a single galaxy's alternative peak is far worse."""
    z1, z2 = 0.35, 0.52
    lines = coefficients(basis, continuum=0.0, lines=1.0)
    blend = spectrum(lines, z1, basis) + spectrum(lines, z2, basis)
    single = spectrum(lines, z1, basis) + 0.01
    flux = np.stack([blend, single])
    # the two fits leave residuals ~1 % apart in χ² (what each fit's other templates soak
    # up differs); at this ivar that is Δχ² ~ 5, while the single galaxy's is ~400
    ivar = np.full(flux.shape, 30.0, np.float32)
    peaks = np.log1p(np.array([[z1, z2], [z1, z2]]))
    fit = refine(flux, ivar, peaks, np.full((2, 2), 0.5))
    assert fit.deltachi2[0] < zwarning.MIN_DELTA_CHI2 < fit.deltachi2[1]
    bits = zwarning.from_fit(fit.z, fit.zerr, fit.z, fit.zerr, fit.chi2, fit.npix, basis.n, fit.deltachi2,
                             fit.bracketed)
    assert bits[0] & zwarning.ZWarn.SMALL_DELTA_CHI2 and not bits[1] & zwarning.ZWarn.SMALL_DELTA_CHI2
    assert {round(float(fit.z[0]), 2), round(float(fit.z2[0]), 2)} == {z1, z2}


def test_network_probabilities_choose_between_equal_fits(basis):
    """Between fits of equal χ² the network's peak probability decides; DELTACHI2 stays honest."""
    lines = coefficients(basis, continuum=0.0, lines=1.0)
    blend = spectrum(lines, 0.35, basis) + spectrum(lines, 0.52, basis)
    ivar = np.full((1, GRID.n), 10.0, np.float32)  # Δχ² ~ 1.7 between the two fits
    peaks = np.log1p(np.array([[0.35, 0.52]]))
    for probs, expected in (([0.9, 0.1], 0.35), ([0.1, 0.9], 0.52)):
        fit = refine(blend[None], ivar, peaks, np.array([probs]))
        assert round(float(fit.z[0]), 2) == expected and fit.deltachi2[0] < zwarning.MIN_DELTA_CHI2


def test_refine_pz_fits_the_top_peaks_of_a_pz(basis):
    rng = np.random.default_rng(2)
    bins = ZBins()
    z = np.array([0.25, 1.1])
    flux, ivar = noisy(np.stack([spectrum(coefficients(basis), zi, basis) for zi in z]), 20.0, rng)
    pz = np.full((2, bins.n), 1e-6)
    true_bin = np.searchsorted(bins.edges, np.log1p(z)) - 1
    pz[[0, 1], true_bin] = 0.7  # the truth
    pz[[0, 1], true_bin + 200] = 0.3  # a wrong alternative
    pz /= pz.sum(1, keepdims=True)
    fit = refine_pz(flux, ivar, pz, bins)
    assert np.all(np.abs(fit.z - z) / (1 + z) < 1e-4)
    assert np.all(fit.deltachi2 > zwarning.MIN_DELTA_CHI2) and np.all(fit.prob > fit.prob2)


def test_spectra_without_data_give_a_failed_fit_not_an_error(basis):
    flux = np.zeros((2, GRID.n), np.float32)
    flux[1] = np.nan
    fit = refine(flux, np.zeros((2, GRID.n), np.float32), np.full((2, 3), 0.5), np.full((2, 3), 1 / 3))
    assert not fit.bracketed.any() and np.isnan(fit.chi2).all() and (fit.npix == 0).all()
    assert (fit.deltachi2 == 0).all()


def test_binning_at_any_phase_matches_direct_sums():
    import torch

    from pipeline.fit.refine import _binned_rows

    rng = np.random.default_rng(3)
    data = torch.from_numpy(rng.normal(size=(5, 64)).astype(np.float32))
    row, phase = np.array([0, 4, 2, 2]), np.array([0, 3, 1, 7])
    got = _binned_rows(data, row, phase, 8).numpy()
    for k, (r, ph) in enumerate(zip(row, phase)):
        padded = np.concatenate([np.zeros(ph), data[r].numpy(), np.zeros(8 - ph)])
        assert np.allclose(got[k], padded.reshape(-1, 8).sum(1), atol=1e-5)
