"""Survey spectra onto the common model grid: sort, check, scale, resample, merge arms.

Input: arms (wavelength (N,) vacuum Å, flux and ivar (B, N)) as a reader gives
them. Output: flux and ivar (B, npix) on the model grid (``grid.model_grid``), arms
merged by inverse-variance weighting where they overlap, and the ZWARN bits that
the input itself earns. Coverage and S/N bits are set later from the stored ivar
(``zwarning.from_data``).

Invalid values (NaN/inf flux or ivar, negative ivar, non-finite wavelengths) are
masked like any bad pixel (ivar 0) and the spectrum is used on the rest: a few bad
pixels earn no bit. BAD_INPUT is kept for a spectrum that invalid values (or arms of
fewer than two pixels) leave without any usable pixel -- it then has NODATA as well.

Scale: each spectrum is divided by a power of two near its largest flux before any
float32 step (``to_model_grid_scaled``), so fluxes from 1e-30 to 1e30 (ivar from 1e60
to 1e-60) neither overflow nor underflow; dividing by a power of two is exact, so
ordinary input gives the same bits as without it.
"""

from __future__ import annotations

import numpy as np

from pipeline.assess.zwarning import ZWarn
from pipeline.sampling.grid import LogGrid, model_grid
from pipeline.sampling.resample import resample


def check_arm(wavelength, flux, ivar):
    """(wavelength, flux, ivar, bits (B,)): wavelengths sorted if needed (UNSORTED bit),
    pixels without a finite wavelength dropped, invalid values (NaN/inf flux or ivar,
    negative ivar) zero-weighted; ``bits`` has BAD_INPUT where a spectrum held any
    invalid value (``to_model_grid`` keeps it only if nothing usable is left)."""
    wavelength = np.asarray(wavelength, dtype=np.float64)
    flux, ivar = np.atleast_2d(flux), np.atleast_2d(ivar)
    bits = np.zeros(flux.shape[0], dtype=np.int64)
    if not np.isfinite(wavelength).all():
        keep = np.isfinite(wavelength)
        wavelength, flux, ivar = wavelength[keep], flux[:, keep], ivar[:, keep]
        bits |= int(ZWarn.BAD_INPUT)
    if np.any(np.diff(wavelength) <= 0):
        order = np.argsort(wavelength, kind="stable")
        wavelength, flux, ivar = wavelength[order], flux[:, order], ivar[:, order]
        keep = np.concatenate([[True], np.diff(wavelength) > 0])  # drop repeated wavelengths
        wavelength, flux, ivar = wavelength[keep], flux[:, keep], ivar[:, keep]
        bits |= int(ZWarn.UNSORTED_WAVELENGTH)
    with np.errstate(invalid="ignore"):
        invalid = ~np.isfinite(flux) | ~np.isfinite(ivar) | (ivar < 0)
    bits |= np.where(invalid.any(axis=1), int(ZWarn.BAD_INPUT), 0)
    ivar = np.where(invalid, 0.0, ivar)
    flux = np.where(invalid, 0.0, flux)
    return wavelength, flux, ivar, bits


def to_model_grid(arms, grid: LogGrid | None = None):
    """(flux (B, npix) float32, ivar (B, npix) float32, bits (B,) int64) on the model grid,
    in the input's units (float32: a flux beyond ~1e±30 needs ``to_model_grid_scaled``).

    arms: iterable of (wavelength, flux, ivar); at least one.
    """
    flux, ivar, bits, scale = _merged(arms, grid)
    return (flux * scale[:, None]).astype(np.float32), (ivar / (scale * scale)[:, None]).astype(np.float32), bits


def to_model_grid_scaled(arms, grid: LogGrid | None = None):
    """(flux / scale, ivar * scale^2 (B, npix) float32, bits (B,) int64, scale (B,) float64):
    the model-grid spectra in units of ``scale``, a power of two near each spectrum's
    largest usable flux (1 where it has none), so float32 holds any flux level."""
    flux, ivar, bits, scale = _merged(arms, grid)
    return flux.astype(np.float32), _float32(ivar), bits, scale


def _merged(arms, grid):
    """Model-grid (flux, ivar) in float64, in units of ``scale``, and bits, scale."""
    grid = grid or model_grid()
    checked = [check_arm(*arm) for arm in arms]
    scale = _power_of_two_scale(checked)
    inv, inv2 = 1.0 / scale[:, None], (scale * scale)[:, None]  # exact: powers of two
    total_w = total_wf = bits = None
    usable = np.zeros(len(scale), bool)
    for wavelength, flux, ivar, arm_bits in checked:
        if len(wavelength) < 2:
            f, w = np.zeros((flux.shape[0], grid.n)), np.zeros((flux.shape[0], grid.n))
            arm_bits = arm_bits | int(ZWarn.BAD_INPUT)
        else:
            f, w = resample(wavelength, flux * inv, ivar * inv2, grid.edges)
            usable |= (ivar > 0).any(axis=1)
        if total_w is None:
            total_w, total_wf, bits = np.zeros_like(w, np.float64), np.zeros_like(f, np.float64), arm_bits
        total_w += w
        total_wf += w * f
        bits = bits | arm_bits
    bits = np.where(usable, bits & ~int(ZWarn.BAD_INPUT), bits)
    flux = np.divide(total_wf, total_w, out=np.zeros_like(total_wf), where=total_w > 0)
    return flux, total_w, bits, scale


def _power_of_two_scale(checked) -> np.ndarray:
    """(B,) float64: 2**e with the largest usable |flux| in [2**(e-1), 2**e); from the
    noise (ivar) where the usable flux is all zero; 1 where nothing is usable."""
    peak = noise = None
    for _, flux, ivar, _ in checked:
        good = ivar > 0
        f = np.where(good, np.abs(flux), 0.0).max(axis=1, initial=0.0).astype(np.float64)
        w = np.where(good, ivar, 0.0).max(axis=1, initial=0.0).astype(np.float64)
        peak, noise = (f, w) if peak is None else (np.maximum(peak, f), np.maximum(noise, w))
    _, e_flux = np.frexp(peak)
    _, e_noise = np.frexp(noise)
    exponent = np.where(peak > 0, e_flux, np.where(noise > 0, -(e_noise // 2), 0))
    return np.ldexp(1.0, exponent)


def _float32(values: np.ndarray) -> np.ndarray:
    """float32, saturating at float32's largest value instead of overflowing to inf."""
    return np.minimum(values, np.finfo(np.float32).max).astype(np.float32)
