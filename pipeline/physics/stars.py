"""Stellar spectra from real SDSS stars: the 21 stellar templates RVSAO ships.

``pipeline/physics/data/rvsao/`` holds, unchanged, the SDSS spectra of stars that the
RVSAO package (Mink & Kurtz; Debian package ``iraf-rvsao`` 2.8.5, licence in
``COPYRIGHT`` there) distributes as cross-correlation templates: O to L1, white dwarfs,
a white dwarf + M dwarf pair and carbon stars. Each is an SDSS ``spSpec`` image: row 0
the flux (1e-17 erg s^-1 cm^-2 Å^-1), row 2 its error (0: no data), row 3 the mask bits; log10-λ pixels of 1e-4
(69 km/s, R ≈ 2000), vacuum wavelengths, the star's own redshift in the ``Z`` card.

Loading (``load_stellar_templates``) moves each star to rest (its ``Z``), fills its
pixels without data by linear interpolation, replaces noise-dominated stretches (S/N <
``NOISY_SNR``, e.g. the blue of M8, L1 and carbon stars) by their running mean,
averages it onto the model grid and completes it over the grid's 3600-11000 Å: the
SDSS spectra cover ~3830-9200 Å, and beyond them the template continues as a Planck
function (``planck_flam``) whose temperature is fitted to the last
``EDGE_FIT_ANGSTROM`` of each side, scaled to meet the last ``EDGE_MATCH_ANGSTROM``: a
smooth continuum without lines or molecular bands (a known limit: no TiO, VO or FeH
beyond 9200 Å). Each template is normalised to unit median flux over ``NORM_RANGE``.

``render_stars`` draws the variations a survey meets: interpolation between
neighbouring types of one family, a radial velocity (a pure shift on the log-λ grid),
Milky Way extinction (``dust.ccm89_a_over_av``) and a flux scale.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from astropy import constants as const
from astropy import units as u
from astropy.io import fits
from scipy.ndimage import median_filter, uniform_filter1d

from pipeline.physics.constants import C_KMS
from pipeline.physics.dust import ccm89_a_over_av
from pipeline.sampling.grid import model_grid
from pipeline.sampling.resample import resample

DATA = Path(__file__).parent / "data" / "rvsao"
#: (file stem, SUBTYPE, family) in temperature order within each family; neighbours of
#: one family are interpolated (``render_stars``).
STELLAR_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    ("sdssOstar", "O", "main"), ("sdssOBstar", "OB", "main"), ("sdssBstar", "B", "main"),
    ("sdssAstar", "A", "main"), ("sdssAstar2", "A", "main"), ("sdssFAstar", "FA", "main"),
    ("sdssFstar", "F", "main"), ("sdssFstar2", "F", "main"), ("sdssGstar", "G", "main"),
    ("sdssGstar2", "G", "main"), ("sdssKstar", "K", "main"), ("sdssM1star", "M", "main"),
    ("sdssM3star", "M", "main"), ("sdssM5star", "M", "main"), ("sdssM8star", "M", "main"),
    ("sdssL1star", "L", "main"),
    ("sdssWDstar", "WD", "wd"), ("sdssMWDstar", "WD+M", "wdm"),
    ("sdssCstar", "CARBON", "carbon"), ("sdssCstar2", "CARBON", "carbon"), ("sdssCstar3", "CARBON", "carbon"),
)
#: Width (Å) of each end of a template that the Planck completion is fitted to.
EDGE_FIT_ANGSTROM = 600.0
#: Width (Å) of each end the completion is made continuous with.
EDGE_MATCH_ANGSTROM = 100.0
#: Rest wavelengths (Å) over which each template is normalised to unit median flux.
NORM_RANGE = (5000.0, 8000.0)
#: Where the running median (NOISY_MEDIAN_PIXELS) of the S/N per pixel is below
#: NOISY_SNR, a template is replaced by its running mean over NOISY_MEAN_PIXELS pixels
#: (69 km/s each); FLOOR x its median flux bounds it below (no zero or negative flux).
NOISY_SNR = 5.0
NOISY_MEDIAN_PIXELS = 41
NOISY_MEAN_PIXELS = 201
FLOOR = 1e-3
#: Temperatures (K) tried for the Planck completion (log-spaced).
PLANCK_TEMPERATURES = np.geomspace(1500.0, 60000.0, 200)


@dataclass(frozen=True)
class StellarTemplates:
    """flux (n, npix) float32 on the model grid, unit median over NORM_RANGE; subtype,
    family, name (n,) str; covered (n, npix) bool: pixels the SDSS spectrum measured
    (the rest is the Planck completion)."""

    flux: np.ndarray
    subtype: np.ndarray
    family: np.ndarray
    name: np.ndarray
    covered: np.ndarray


def planck_flam(wavelength: np.ndarray, temperature) -> np.ndarray:
    """Planck B_lambda (arbitrary scale) at ``wavelength`` (n,) Å for ``temperature``
    (T,) K: (T, n) float64. Constants h, c, k_B from astropy (CODATA 2018)."""
    hc_over_k = (const.h * const.c / const.k_B).to_value(u.AA * u.K)
    lam = np.asarray(wavelength, np.float64)[None, :]
    t = np.atleast_1d(np.asarray(temperature, np.float64))[:, None]
    with np.errstate(over="ignore"):
        return lam**-5 / np.expm1(hc_over_k / (lam * t))


def read_spspec(stem: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(vacuum wavelength Å, flux with masked pixels interpolated, the star's Z)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few SDSS cards are non-standard
        with fits.open(DATA / f"{stem}.fits") as hdul:
            hdul.verify("silentfix")
            header, data = hdul[0].header, np.asarray(hdul[0].data, np.float64)
    loglam = header["COEFF0"] + header["COEFF1"] * np.arange(data.shape[1])
    # row 3's mask bits are mostly informational (e.g. BRIGHTSKY at Na D): a pixel is bad
    # where the pipeline gave it no error (err = 0), as SDSS's ivar = 0
    flux, err = data[0], data[2]
    good = np.isfinite(flux) & np.isfinite(err) & (err > 0)
    flux = np.interp(np.arange(len(flux)), np.flatnonzero(good), flux[good])
    # where the star was faint (the blue of M, L and carbon stars) the spectrum is noise:
    # there the template is its running median, so no noise pattern becomes "signal"
    snr = median_filter(np.where(good, flux / np.where(good, err, np.inf), 0.0), size=NOISY_MEDIAN_PIXELS,
                        mode="nearest")
    smooth = uniform_filter1d(flux, NOISY_MEAN_PIXELS, mode="nearest")
    flux = np.where(snr < NOISY_SNR, smooth, flux)
    return 10.0**loglam, np.maximum(flux, FLOOR * np.median(flux)), _redshift(header)


def _redshift(header) -> float:
    """The star's ``Z`` card; 0 where it is unreadable (a few cards are garbled, e.g.
    '0.0000-000000000E-04': those stars' own velocities, at most a few hundred km/s,
    then add to the drawn radial velocity)."""
    try:
        return float(header.get("Z", 0.0))
    except ValueError:
        return 0.0


def _planck_completion(wavelength, flux, side: str, grid_wavelength) -> np.ndarray:
    """Planck continuation (on ``grid_wavelength``) fitted to one end of a spectrum."""
    edge = wavelength[0] + EDGE_FIT_ANGSTROM if side == "blue" else wavelength[-1] - EDGE_FIT_ANGSTROM
    sel = wavelength <= edge if side == "blue" else wavelength >= edge
    shapes = planck_flam(wavelength[sel], PLANCK_TEMPERATURES)
    scale = (shapes * flux[sel]).sum(1) / (shapes**2).sum(1)  # least squares per T
    resid = ((flux[sel] - scale[:, None] * shapes) ** 2).sum(1)
    best = int(np.argmin(resid))
    # continuous at the edge: scaled to the template's mean over its last EDGE_MATCH_ANGSTROM
    near = wavelength <= wavelength[0] + EDGE_MATCH_ANGSTROM if side == "blue" else \
        wavelength >= wavelength[-1] - EDGE_MATCH_ANGSTROM
    shape = planck_flam(wavelength[near], PLANCK_TEMPERATURES[best])[0]
    return flux[near].mean() / shape.mean() * planck_flam(grid_wavelength, PLANCK_TEMPERATURES[best])[0]


@lru_cache(maxsize=1)
def load_stellar_templates() -> StellarTemplates:
    """The 21 stellar templates on the model grid (cached per process)."""
    grid = model_grid()
    rows, covered = [], []
    for stem, _, _ in STELLAR_TEMPLATES:
        wavelength, flux, z = read_spspec(stem)
        wavelength = wavelength / (1 + z)
        on_grid, ivar = resample(wavelength, flux[None], np.ones((1, len(flux))), grid.edges)
        inside = (ivar[0] > 0) & (grid.wavelength >= wavelength[0]) & (grid.wavelength <= wavelength[-1])
        full = on_grid[0].astype(np.float64)
        blue, red = grid.wavelength < wavelength[0], grid.wavelength > wavelength[-1]
        full[blue] = _planck_completion(wavelength, flux, "blue", grid.wavelength[blue])
        full[red] = _planck_completion(wavelength, flux, "red", grid.wavelength[red])
        full[~inside & ~blue & ~red] = np.interp(grid.wavelength[~inside & ~blue & ~red], grid.wavelength[inside],
                                                full[inside])
        norm = (grid.wavelength >= NORM_RANGE[0]) & (grid.wavelength <= NORM_RANGE[1])
        rows.append(full / np.median(full[norm]))
        covered.append(inside)
    names, subtypes, families = zip(*STELLAR_TEMPLATES)
    return StellarTemplates(np.asarray(rows, np.float32), np.asarray(subtypes), np.asarray(families),
                            np.asarray(names), np.asarray(covered))


def neighbours(family: np.ndarray) -> np.ndarray:
    """(n,) index of each template's next neighbour in its family (itself at the end);
    family: (n,) the templates' families (``StellarTemplates.family``)."""
    index = np.arange(len(family))
    nxt = np.minimum(index + 1, len(index) - 1)
    return np.where(family[nxt] == family, nxt, index)


def render_stars(index: np.ndarray, mix: np.ndarray, rv_kms: np.ndarray, ebv: np.ndarray, scale: np.ndarray,
                 templates: StellarTemplates | None = None, r_v: float = 3.1) -> np.ndarray:
    """Observed-frame flux (B, npix) float32 of B stars on the model grid.

    index (B,): template; mix (B,) in [0, 1]: weight of the template's next neighbour in
    its family (``neighbours``; 0 for the last of a family); rv_kms (B,): radial velocity
    (positive: receding); ebv (B,): Milky Way E(B-V), mag, CCM89 with ``r_v``; scale (B,):
    flux at the normalisation range, in the flux unit.
    """
    t = templates or load_stellar_templates()
    grid = model_grid()
    index = np.asarray(index, np.int64)
    mix = np.asarray(mix, np.float32)[:, None]
    flux = (1 - mix) * t.flux[index] + mix * t.flux[neighbours(t.family)[index]]
    # a radial velocity is a shift of ln(1 + v/c) / dln pixels: linear interpolation
    shift = np.log1p(np.asarray(rv_kms, np.float64) / C_KMS) / grid.dln
    source = np.arange(grid.n)[None, :] - shift[:, None]
    lo = np.clip(np.floor(source).astype(np.int64), 0, grid.n - 2)
    frac = np.clip(source - lo, 0.0, 1.0).astype(np.float32)
    flux = np.take_along_axis(flux, lo, 1) * (1 - frac) + np.take_along_axis(flux, lo + 1, 1) * frac
    a_lambda = ccm89_a_over_av(grid.wavelength, r_v)[None, :] * (r_v * np.asarray(ebv, np.float64))[:, None]
    flux *= (10.0 ** (-0.4 * a_lambda)).astype(np.float32)
    return (flux * np.asarray(scale, np.float32)[:, None]).astype(np.float32)
