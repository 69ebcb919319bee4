"""Survey spectra onto the common model grid: sort, check, resample, merge arms.

Input: arms (wavelength (N,) vacuum Å, flux and ivar (B, N)) as a reader gives
them. Output: flux and ivar (B, npix) on the model grid (``grid.model_grid``), arms
merged by inverse-variance weighting where they overlap, and the ZWARN bits that
the input itself earns (unsorted wavelengths, invalid values). Coverage and S/N
bits are set later from the stored ivar (``zwarning.from_data``).
"""

from __future__ import annotations

import numpy as np

from pipeline.assess.zwarning import ZWarn
from pipeline.sampling.grid import LogGrid, model_grid
from pipeline.sampling.resample import resample


def check_arm(wavelength, flux, ivar):
    """(wavelength, flux, ivar, bits (B,)): wavelengths sorted if needed (UNSORTED bit),
    invalid values (NaN/inf flux or ivar, negative ivar) zero-weighted (BAD_INPUT bit)."""
    wavelength = np.asarray(wavelength, dtype=np.float64)
    flux, ivar = np.atleast_2d(flux), np.atleast_2d(ivar)
    bits = np.zeros(flux.shape[0], dtype=np.int64)
    if np.any(np.diff(wavelength) <= 0):
        order = np.argsort(wavelength, kind="stable")
        wavelength, flux, ivar = wavelength[order], flux[:, order], ivar[:, order]
        keep = np.concatenate([[True], np.diff(wavelength) > 0])  # drop repeated wavelengths
        wavelength, flux, ivar = wavelength[keep], flux[:, keep], ivar[:, keep]
        bits |= int(ZWarn.UNSORTED_WAVELENGTH)
    invalid = ~np.isfinite(flux) | ~np.isfinite(ivar) | (ivar < 0)
    bits |= np.where(invalid.any(axis=1), int(ZWarn.BAD_INPUT), 0)
    ivar = np.where(invalid, 0.0, ivar)
    flux = np.where(invalid, 0.0, flux)
    return wavelength, flux, ivar, bits


def to_model_grid(arms, grid: LogGrid | None = None):
    """(flux (B, npix) float32, ivar (B, npix) float32, bits (B,) int64) on the model grid.

    arms: iterable of (wavelength, flux, ivar); at least one.
    """
    grid = grid or model_grid()
    total_w = total_wf = bits = None
    for wavelength, flux, ivar in arms:
        wavelength, flux, ivar, arm_bits = check_arm(wavelength, flux, ivar)
        if len(wavelength) < 2:
            f, w = np.zeros((flux.shape[0], grid.n)), np.zeros((flux.shape[0], grid.n))
            arm_bits = arm_bits | int(ZWarn.BAD_INPUT)
        else:
            f, w = resample(wavelength, flux, ivar, grid.edges)
        if total_w is None:
            total_w, total_wf, bits = np.zeros_like(w, np.float64), np.zeros_like(f, np.float64), arm_bits
        total_w += w
        total_wf += w * f
        bits = bits | arm_bits
    flux = np.divide(total_wf, total_w, out=np.zeros_like(total_wf), where=total_w > 0)
    return flux.astype(np.float32), total_w.astype(np.float32), bits
