"""Survey arms onto the model grid, with the bits bad input earns."""

import numpy as np

from pipeline.assess.zwarning import ZWarn
from pipeline.sampling.grid import model_grid
from pipeline.sampling.regrid import to_model_grid, to_model_grid_scaled


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


def test_nan_and_negative_ivar_are_zero_weighted_and_the_rest_used_without_a_bit():
    wave, f, iv = arm(4000, 6000)
    f[0, ::7] = np.nan
    iv[1, 200:] = -1.0
    iv[1, 100] = np.inf
    flux, ivar, bits = to_model_grid([(wave, f, iv)])
    clean, clean_ivar, _ = to_model_grid([arm(4000, 6000)])
    assert np.isfinite(flux).all() and np.isfinite(ivar).all() and (ivar >= 0).all()
    assert np.all(bits == 0)  # masked like any bad pixel: the spectrum is used on the rest
    assert 0.8 * np.count_nonzero(clean_ivar[0]) < np.count_nonzero(ivar[0]) < np.count_nonzero(clean_ivar[0])
    np.testing.assert_allclose(flux[ivar > 0], 1.0, rtol=1e-6)


def test_entirely_invalid_spectra_and_arms_too_short_are_bad_input():
    wave, f, iv = arm(4000, 6000)
    f[0] = np.nan
    iv[1] = -4.0
    flux, ivar, bits = to_model_grid([(wave, f, iv)])
    assert np.all(bits == ZWarn.BAD_INPUT) and np.all(ivar == 0)
    _, _, bits = to_model_grid([(wave, f, iv), arm(6000, 8000)])  # another arm is usable
    assert np.all(bits == 0)
    _, _, bits = to_model_grid([(np.array([5000.0]), np.ones((1, 1)), np.ones((1, 1)))])
    assert bits.tolist() == [ZWarn.BAD_INPUT]


def test_non_finite_wavelengths_drop_their_pixels():
    wave, f, iv = arm(4000, 6000)
    wave[::50] = np.nan
    flux, ivar, bits = to_model_grid([(wave, f, iv)])
    assert np.isfinite(flux).all() and np.all(bits == 0)
    np.testing.assert_allclose(flux[ivar > 0], 1.0, rtol=1e-6)


def test_the_flux_level_does_not_matter_from_1e_minus_30_to_1e30():
    """Scaled and unscaled give the same float32 spectra in units of their scale (a power
    of two: exact), where a physical float32 result would over- or underflow."""
    wave, f, iv = arm(4000, 6000)
    f = f * (1.0 + 0.1 * np.sin(wave / 30.0))
    ref_flux, ref_ivar, _, ref_scale = to_model_grid_scaled([(wave, f, iv)])
    for s in (1e30, 1e-30):
        flux, ivar, bits, scale = to_model_grid_scaled([(wave, f * s, iv / s**2)])
        assert np.all(bits == 0) and np.all(ivar[ref_ivar > 0] > 0)
        np.testing.assert_allclose(scale / ref_scale, s, rtol=1.0)  # a power of two within 2x of s
        ratio = (s * ref_scale / scale)[:, None]  # the units differ by this (close to 1)
        np.testing.assert_allclose(flux, ref_flux * ratio, rtol=1e-6)
        np.testing.assert_allclose(ivar, ref_ivar / ratio**2, rtol=1e-6)
    plain = to_model_grid([(wave, f, iv)])
    np.testing.assert_array_equal(plain[0], (ref_flux * ref_scale[:, None]).astype(np.float32))


def test_wavelengths_off_the_grid_leave_nothing_covered():
    flux, ivar, bits = to_model_grid([arm(20000, 25000)])
    assert np.all(ivar == 0) and np.all(flux == 0)
