"""Radial velocity and SUBTYPE of stars: a χ² fit of the 21 stellar templates.

For spectra the network classes as stars, every stellar template
(``pipeline.physics.stars``) times a linear tilt in wavelength (a + b x, x in [-1, 1]
over the model grid: it absorbs reddening and flux-calibration errors to first order)
is fitted by least squares with the spectrum's ivar at every integer pixel shift within
+-``MAX_RV_KMS`` (32.7 km/s pixels; on the log-λ grid a velocity is a shift). The best
(template, shift) gives SUBTYPE and CHI2; a parabola through its three χ² values around
the best shift gives the sub-pixel velocity and, from its curvature (Δχ² = 1), its error;
DELTACHI2 is the best fit of any template of another SUBTYPE minus the best (redrock's
spirit: how much better the chosen answer is than the next distinct one).

All fits are matrix products of the batch's ivar-weighted data with the pre-shifted
templates: no per-spectrum loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.physics.constants import C_KMS
from pipeline.physics.stars import load_stellar_templates
from pipeline.sampling.grid import model_grid

#: Radial velocities searched, km/s (halo stars reach a few hundred).
MAX_RV_KMS = 600.0
#: Floor of the velocity error, pixels (template mismatch dominates below it).
SHIFT_ERR_FLOOR = 0.1


@dataclass
class StarFit:
    """Per spectrum (B,): z = v/c and its error, chi2 and npix of the best fit, deltachi2
    to the best other SUBTYPE, template index and SUBTYPE name."""

    z: np.ndarray
    zerr: np.ndarray
    chi2: np.ndarray
    npix: np.ndarray
    deltachi2: np.ndarray
    template: np.ndarray
    subtype: np.ndarray


@lru_cache(maxsize=1)
def _shifted() -> tuple[np.ndarray, np.ndarray]:
    """(shifts (S,), templates (S, T, npix) float32 shifted by each integer pixel shift)."""
    t = load_stellar_templates().flux
    grid = model_grid()
    half = int(np.ceil(np.log1p(MAX_RV_KMS / C_KMS) / grid.dln))
    shifts = np.arange(-half, half + 1)
    source = np.clip(np.arange(grid.n)[None, :] - shifts[:, None], 0, grid.n - 1)
    return shifts, t[:, source].transpose(1, 0, 2).copy()


def fit_stars(flux: np.ndarray, ivar: np.ndarray) -> StarFit:
    """Fit every spectrum (flux, ivar (B, npix) on the model grid) with every template
    at every shift; see the module doc."""
    shifts, t = _shifted()
    s, n_t, npix = t.shape
    grid = model_grid()
    x = np.linspace(-1.0, 1.0, npix, dtype=np.float32)
    w = np.where(ivar > 0, ivar, 0).astype(np.float32)
    f = np.where(ivar > 0, flux, 0).astype(np.float32)
    wf = w * f
    flat = t.reshape(s * n_t, npix)
    # normal equations of (a, b) per (spectrum, template x shift): sums of w t^2, w t^2 x, ...
    tt = flat * flat
    m00 = w @ tt.T
    m01 = (w * x) @ tt.T
    m11 = (w * x * x) @ tt.T
    y0 = wf @ flat.T
    y1 = (wf * x) @ flat.T
    det = m00 * m11 - m01 * m01
    ok = det > 1e-12 * np.maximum(m00 * m11, 1e-30)
    with np.errstate(invalid="ignore", divide="ignore"):
        explained = np.where(ok, (m11 * y0 * y0 - 2 * m01 * y0 * y1 + m00 * y1 * y1) / det, 0.0)
    chi2 = ((wf * f).sum(axis=1)[:, None] - explained).reshape(len(f), s, n_t)
    return _best(chi2, shifts, grid.dln, np.count_nonzero(w, axis=1))


def _best(chi2: np.ndarray, shifts: np.ndarray, dln: float, npix: np.ndarray) -> StarFit:
    """The best (shift, template) of χ² (B, S, T), its parabola and DELTACHI2."""
    b, s, n_t = chi2.shape
    rows = np.arange(b)
    per_template = chi2.min(axis=1)  # (B, T)
    best_t = per_template.argmin(axis=1)
    best_s = chi2[rows, :, best_t].argmin(axis=1)
    i = np.clip(best_s, 1, s - 2)
    c_m, c_0, c_p = (chi2[rows, i + d, best_t] for d in (-1, 0, 1))
    curv = c_m - 2 * c_0 + c_p
    good = curv > 0
    offset = np.where(good, np.clip(0.5 * (c_m - c_p) / np.where(good, curv, 1.0), -1, 1), 0.0)
    shift = shifts[i] + offset
    err = np.where(good, np.sqrt(2.0 / np.where(good, curv, 1.0)), 1.0)
    reduced = np.maximum(per_template[rows, best_t] / np.maximum(npix - 2, 1), 1.0)
    err = np.maximum(err * np.sqrt(reduced), SHIFT_ERR_FLOOR)
    subtypes = load_stellar_templates().subtype
    other = subtypes[None, :] != subtypes[best_t][:, None]
    second = np.where(other, per_template, np.inf).min(axis=1)
    return StarFit(z=np.expm1(shift * dln), zerr=err * dln, chi2=per_template[rows, best_t],
                   npix=npix.astype(np.int32), deltachi2=second - per_template[rows, best_t], template=best_t,
                   subtype=subtypes[best_t])
