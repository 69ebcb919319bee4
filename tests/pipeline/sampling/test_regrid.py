"""Survey arms onto the model grid, with the bits bad input earns."""

import numpy as np

from pipeline.assess.zwarning import ZWarn
from pipeline.sampling.grid import model_grid
from pipeline.sampling.regrid import to_model_grid


def arm(lo, hi, value=1.0, ivar=4.0, n=2):
    wave = np.arange(lo, hi, 1.0)
    return wave, np.full((n, wave.size), value), np.full((n, wave.size), ivar)


def test_two_overlapping_arms_merge_by_inverse_variance():
    grid = model_grid()
    flux, ivar, bits = to_model_grid([arm(4000, 6000, 1.0, 4.0), arm(5500, 8000, 2.0, 12.0)], grid)
    assert np.all(bits == 0)
    j = int(grid.pixel_of(5700.0))
    np.testing.assert_allclose(flux[:, j], (1.0 * 4 + 2.0 * 12) / 16, rtol=1e-5)
    assert np.all(ivar[:, int(grid.pixel_of(3700.0))] == 0) and np.all(ivar[:, int(grid.pixel_of(9000.0))] == 0)


def test_unsorted_wavelengths_are_sorted_and_flagged():
    wave, f, iv = arm(4000, 6000, 1.0)
    f[:, :] = wave / 1000.0
    order = np.random.default_rng(0).permutation(wave.size)
    flux, ivar, bits = to_model_grid([(wave[order], f[:, order], iv[:, order])])
    sorted_flux, _, _ = to_model_grid([(wave, f, iv)])
    np.testing.assert_allclose(flux, sorted_flux)
    assert np.all(bits == ZWarn.UNSORTED_WAVELENGTH)


def test_nan_and_negative_ivar_are_zero_weighted_and_flagged():
    wave, f, iv = arm(4000, 6000)
    f[0, 100] = np.nan
    iv[1, 200:] = -1.0
    flux, ivar, bits = to_model_grid([(wave, f, iv)])
    assert np.isfinite(flux).all() and np.isfinite(ivar).all() and (ivar >= 0).all()
    assert np.all(bits == ZWarn.BAD_INPUT)


def test_wavelengths_off_the_grid_leave_nothing_covered():
    flux, ivar, bits = to_model_grid([arm(20000, 25000)])
    assert np.all(ivar == 0) and np.all(flux == 0)
