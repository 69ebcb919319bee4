"""Quasar spectra from real quasars: empirical PCA spectra on a full-range composite.

Ingredients (rest frame, vacuum, f_lambda in arbitrary units):

* **composite**: the SDSS quasar composite that RVSAO ships (``data/rvsao/sdssQSO.fits``,
  700-8500 Å; the composite of Vanden Berk et al. 2001, AJ 122, 549). Redward of
  ``BLUE_JOIN`` it is used as it is; blueward its Lyman-alpha forest (an average
  absorption already in the composite) is replaced by the intrinsic continuum, a power
  law f_lambda ~ lambda^``EUV_SLOPE`` (alpha_nu = -1.57 below 1200 Å: Telfer et al. 2002,
  ApJ 565, 773) scaled to the composite at ``BLUE_JOIN``, plus the Lyβ/O VI line, so
  that the simulator's own IGM (mean plus the stochastic forest below) does the
  absorbing. Redward of 8500 Å: a power law (alpha_nu = -0.44, f_lambda ~ lambda^-1.56,
  Vanden Berk et al. 2001) from the composite's red end.
* **variety**: PypeIt's quasar PCA (``pypeit/data/telluric/models/qso_pca_*.fits``;
  ln f = sum_k c_k P_k over 1200-3100 Å with 10 components and 1,050 coefficient sets
  of real SDSS quasars, and over 2200-5100 Å with 9 components and 3,434 sets). Each
  quasar takes one real coefficient set (the set covering more of its observed rest
  range) and its PCA spectrum replaces the composite over the PCA range; the composite
  outside that range is tilted by the power law that joins the two at both ends, so the
  drawn quasar's continuum slope carries over the whole spectrum.
* **luminosity**: the Baldwin effect, line equivalent widths ~ L^``BALDWIN_SLOPE``
  (Dietrich et al. 2002, ApJ 581, 912: beta ~ -0.2 for C IV): the emission above a
  smoothed continuum (``LINE_SMOOTH_ANGSTROM``) is scaled by 10^(-0.2 ``qso_dlogl``),
  ``qso_dlogl`` the quasar's luminosity relative to the typical one, dex. The line widths
  and the rest of the line-strength variety come from the real coefficient sets.
* **BAL quasars** (``qso_bal`` = 1): Gaussian optical-depth troughs in velocity blueward
  of C IV, Si IV, N V and Lyman-alpha (and, for a LoBAL, Mg II and Al III), outflow
  velocities and widths drawn per quasar (``BAL_*``; Weymann et al. 1991, ApJ 373, 23;
  Gibson et al. 2009, ApJ 692, 758: BAL troughs 2,000-25,000 km/s).
* **red quasars**: dust of E(B-V) ``qso_ebv`` at the quasar, SMC-like curve approximated by
  Calzetti's (``dust.calzetti_k``; Richards et al. 2003, AJ 126, 1131 find SMC dust).
* **Lyman-alpha forest** (observed frame): the mean Inoue et al. (2014) transmission (the
  simulator's IGM) raised to a log-normal power exp(delta - s^2/2), delta a Gaussian field
  correlated over ``FOREST_CORRELATION_KMS`` (the log-normal forest of Bi & Davidsen
  1997, ApJ 479, 523), and damped Lyman-alpha systems: Poisson(``DLA_RATE`` per unit
  z) absorbers between z = 2 and the quasar, log N(HI) from 20.3 to 21.5 with
  dN/dN ~ N^-2 (Prochaska & Wolfe 2009, ApJ 696, 1543), Voigt profiles with the
  damping wing approximation of ``voigt_tau``.
* **host galaxy** at low z (``simulate.py`` adds it): ``host_fraction`` of the 5100 Å
  light (Shen et al. 2011, ApJS 194, 45: hosts are tens of per cent at z < 0.8).

Every per-quasar draw beyond the table's columns (the coefficient set, the forest,
DLAs, BAL troughs) follows from the row's ``object_key`` through the counter-based hash
of ``artifacts.keyed_uniform``: a quasar is the same whichever batch renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from astropy.io import fits
from scipy.ndimage import gaussian_filter1d, minimum_filter1d, uniform_filter1d
from scipy.special import ndtri

from pipeline.physics.artifacts import keyed_uniform
from pipeline.physics.constants import C_KMS
from pipeline.physics.dust import calzetti_k
from pipeline.physics.igm import LYA_REST
from pipeline.physics.resources import package_file
from pipeline.physics.stars import read_spspec
from pipeline.sampling.grid import LogGrid, model_grid, rest_grid

#: PypeIt's PCA files (pip name for the error message) and their rest ranges, Å.
PCA_FILES = ("data/telluric/models/qso_pca_1200_3100.fits", "data/telluric/models/qso_pca_2200_5100.fits")
PCA_PIP = "--no-deps pypeit==2.0.1"
#: Blueward of this rest wavelength (Å) the composite's forest is replaced (see module doc).
BLUE_JOIN = 1280.0
#: Intrinsic EUV slope, f_lambda ~ lambda^EUV_SLOPE (alpha_nu = -1.57: Telfer et al. 2002).
EUV_SLOPE = -2.0 + 1.57
#: Optical slope beyond the composite's red end (alpha_nu = -0.44: Vanden Berk et al. 2001).
RED_SLOPE = -2.0 + 0.44
#: Lyβ + O VI blend: rest centre (Å), Gaussian sigma (km/s), equivalent width (Å, Telfer 2002 composite).
OVI_CENTRE, OVI_SIGMA_KMS, OVI_EW = 1033.0, 3000.0, 12.0
#: Width (Å) of the cosine blends where the PCA spectrum meets the composite.
BLEND_ANGSTROM = 60.0
#: Line EW ~ L^BALDWIN_SLOPE (Dietrich et al. 2002); continuum smoothing to isolate lines, Å.
BALDWIN_SLOPE = -0.2
LINE_SMOOTH_ANGSTROM = 400.0
#: BAL troughs: transitions (rest Å) and relative depth; LoBAL-only transitions.
BAL_LINES = ((1549.06, 1.0), (1396.76, 0.6), (1240.14, 0.8), (1215.67, 0.8))
LOBAL_LINES = ((2798.75, 0.7), (1857.40, 0.5))
BAL_VELOCITY_KMS = (2000.0, 20000.0)
BAL_WIDTH_KMS = (1000.0, 5000.0)
BAL_DEPTH = (0.5, 3.0)
LOBAL_SHARE = 0.1
#: Log-normal forest: Gaussian field sigma and correlation length (km/s).
FOREST_SIGMA = 0.8
FOREST_CORRELATION_KMS = 50.0
#: DLAs: dN/dz per quasar sightline at z > DLA_Z_MIN (~0.2 at z ~ 2-4: Prochaska & Wolfe 2009).
DLA_RATE = 0.2
DLA_Z_MIN = 2.0
DLA_LOG_N = (20.3, 21.5)
DLA_MAX = 3
#: DLAs within this velocity of the quasar (associated absorbers) are not drawn.
DLA_PROXIMATE_KMS = 5000.0
#: Lyman-alpha oscillator strength and damping constant (Morton 2003, ApJS 149, 205).
LYA_F, LYA_GAMMA = 0.4164, 6.265e8
DLA_B_KMS = 20.0
#: Typical quasar luminosity spread, dex (qso_dlogl draws; Shen et al. 2011 luminosity range).
DLOGL_SIGMA = 0.4
#: Hash streams of object_key (artifacts.keyed_uniform), one per quantity.
_S_PCA, _S_BAL, _S_FOREST, _S_DLA = 11, 12, 13, 14


@dataclass(frozen=True)
class QuasarModel:
    """The rest-frame ingredients on the simulator's rest grid (``rest_grid``).

    rest: the grid; base: (n,) float64 intrinsic composite (unit median over
    1450-1470 Å); sets: per PCA file (first index, last index + 1, components
    (ncomp, m) float32 on rest[first:last], coefficient sets (nsets, ncomp) float32).
    """

    rest: LogGrid
    base: np.ndarray
    sets: tuple


def _composite(wavelength: np.ndarray) -> np.ndarray:
    """The intrinsic composite at rest ``wavelength`` (n,) Å (see module doc)."""
    lam, flux, _ = read_spspec("sdssQSO")
    out = np.interp(np.log(wavelength), np.log(lam), flux)
    join = np.interp(np.log(BLUE_JOIN), np.log(lam), flux)
    blue = wavelength < BLUE_JOIN
    ovi = OVI_EW / (np.sqrt(2 * np.pi) * OVI_CENTRE * OVI_SIGMA_KMS / C_KMS) * \
        np.exp(-0.5 * (np.log(wavelength / OVI_CENTRE) * C_KMS / OVI_SIGMA_KMS) ** 2)
    power = join * (wavelength / BLUE_JOIN) ** EUV_SLOPE
    out[blue] = (power * (1 + ovi))[blue]
    red = wavelength > lam[-1]
    end = flux[-50:].mean()
    out[red] = end * (wavelength[red] / lam[-25]) ** RED_SLOPE
    return out / np.median(out[(wavelength > 1450) & (wavelength < 1470)])


def _pca(path, rest: LogGrid):
    with fits.open(path) as hdul:
        t = hdul[1].data
        wave = np.asarray(t["WAVE_PCA"][0], np.float64).ravel()
        comps = np.asarray(t["PCA_COMP"][0], np.float64).reshape(-1, wave.size)
        coeffs = np.asarray(t["PCA_COEFFS"][0], np.float64).reshape(-1, comps.shape[0])
    first = int(np.searchsorted(rest.wavelength, wave[0]))
    last = int(np.searchsorted(rest.wavelength, wave[-1]))
    lam = np.log(rest.wavelength[first:last])
    on_rest = np.stack([np.interp(lam, np.log(wave), c) for c in comps])
    return first, last, on_rest.astype(np.float32), coeffs.astype(np.float32)


@lru_cache(maxsize=1)
def load_quasar_model() -> QuasarModel:
    """The composite and both PCA sets on the rest grid (cached per process)."""
    rest, _ = rest_grid(model_grid())
    sets = tuple(_pca(package_file("pypeit", f, PCA_PIP), rest) for f in PCA_FILES)
    return QuasarModel(rest, _composite(rest.wavelength), sets)


def pca_set_of(z: np.ndarray, lambda_lo: np.ndarray, lambda_hi: np.ndarray, model: QuasarModel) -> np.ndarray:
    """(B,) index of the PCA set that covers more of each quasar's observed rest range."""
    lo, hi = lambda_lo / (1 + z), lambda_hi / (1 + z)
    overlap = [np.clip(np.minimum(hi, model.rest.wavelength[b - 1]) - np.maximum(lo, model.rest.wavelength[a]),
                       0, None) for a, b, _, _ in model.sets]
    return np.argmax(np.stack(overlap, axis=1), axis=1)


def _blend(n: int, width: int) -> np.ndarray:
    """(n,) weights: 1 inside, cosine tapers of ``width`` pixels to 0 at both ends."""
    w = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(width) + 0.5) / width)
    w[:width], w[-width:] = ramp, ramp[::-1]
    return w


def rest_quasars(p: dict, model: QuasarModel | None = None) -> np.ndarray:
    """Rest-frame quasar spectra (B, rest.n) float32, unit median over 1450-1470 Å of the
    composite, before the forest and the host (see module doc).

    p: columns ``object_key``, ``z``, ``lambda_lo``, ``lambda_hi``, ``qso_dlogl`` (dex),
    ``qso_bal`` (0/1), ``qso_ebv`` (mag), each (B,).
    """
    m = model or load_quasar_model()
    key = np.asarray(p["object_key"])
    which = pca_set_of(p["z"], p["lambda_lo"], p["lambda_hi"], m)
    out = np.repeat(m.base[None, :], len(key), axis=0)
    lnlam = np.log(m.rest.wavelength)
    u = keyed_uniform(key, _S_PCA, 1)[:, 0]
    for s, (first, last, comps, coeffs) in enumerate(m.sets):
        rows = np.flatnonzero(which == s)
        if not len(rows):
            continue
        pick = np.minimum((u[rows] * len(coeffs)).astype(np.int64), len(coeffs) - 1)
        pca = np.exp(coeffs[pick].astype(np.float64) @ comps)
        out[rows] = _join(out[rows], pca, first, last, lnlam)
    out *= _baldwin_factor(out, np.asarray(p["qso_dlogl"]), m.rest)
    bal = np.asarray(p["qso_bal"]) > 0.5
    if bal.any():
        out[bal] *= bal_transmission(key[bal], m.rest.wavelength)
    out *= 10.0 ** (-0.4 * calzetti_k(m.rest.wavelength)[None, :] * np.asarray(p["qso_ebv"])[:, None])
    return out.astype(np.float32)


def _join(base: np.ndarray, pca: np.ndarray, first: int, last: int, lnlam: np.ndarray) -> np.ndarray:
    """PCA spectra (B, m) on rest[first:last] set into ``base`` (B, n): the base is tilted
    by the power law through the PCA/base ratio at both ends of the range, then the PCA
    spectrum replaces it inside with cosine blends."""
    edge = max(int(np.log1p(BLEND_ANGSTROM / np.exp(lnlam[first])) / (lnlam[1] - lnlam[0])), 8)
    inner = base[:, first:last]
    ratio_lo = np.median(pca[:, edge:2 * edge] / inner[:, edge:2 * edge], axis=1)
    ratio_hi = np.median(pca[:, -2 * edge:-edge] / inner[:, -2 * edge:-edge], axis=1)
    x_lo, x_hi = lnlam[first + int(1.5 * edge)], lnlam[last - int(1.5 * edge)]
    slope = np.log(ratio_hi / ratio_lo) / (x_hi - x_lo)
    tilt = np.exp(np.log(ratio_lo)[:, None] + slope[:, None] * (lnlam[None, :] - x_lo))
    out = base * tilt
    w = _blend(last - first, edge)[None, :]
    out[:, first:last] = w * pca + (1 - w) * out[:, first:last]
    return out


def _baldwin_factor(flux: np.ndarray, dlogl: np.ndarray, rest: LogGrid) -> np.ndarray:
    """(B, n) factors scaling each spectrum's emission above its smoothed continuum by
    10^(BALDWIN_SLOPE dlogl); the continuum (a running minimum then mean in ln lambda)
    is unchanged."""
    width = int(LINE_SMOOTH_ANGSTROM / 5000.0 / rest.dln)
    log_flux = np.log(np.maximum(flux, 1e-30))
    cont = np.exp(uniform_filter1d(minimum_filter1d(log_flux, width, axis=1), width, axis=1))
    cont = np.minimum(cont, flux)
    scale = 10.0 ** (BALDWIN_SLOPE * dlogl)[:, None]
    return (cont + (flux - cont) * scale) / np.maximum(flux, 1e-30)


def bal_transmission(key: np.ndarray, wavelength: np.ndarray) -> np.ndarray:
    """(B, n) BAL trough transmission at rest ``wavelength`` (n,) Å for BAL quasars with
    ``key`` (B,): one outflow (velocity, width, depth) per quasar, troughs on every
    transition of ``BAL_LINES`` (and ``LOBAL_LINES`` for a LoBAL)."""
    u = keyed_uniform(key, _S_BAL, 4)
    v = BAL_VELOCITY_KMS[0] + u[:, 0] * (BAL_VELOCITY_KMS[1] - BAL_VELOCITY_KMS[0])
    width = BAL_WIDTH_KMS[0] + u[:, 1] * (BAL_WIDTH_KMS[1] - BAL_WIDTH_KMS[0])
    depth = BAL_DEPTH[0] + u[:, 2] * (BAL_DEPTH[1] - BAL_DEPTH[0])
    lobal = u[:, 3] < LOBAL_SHARE
    tau = np.zeros((len(key), len(wavelength)))
    for lines, on in ((BAL_LINES, np.ones(len(key), bool)), (LOBAL_LINES, lobal)):
        for centre, rel in lines:
            dv = np.log(wavelength / centre)[None, :] * C_KMS + v[:, None]  # 0 at -v from the line
            tau += (on * rel * depth)[:, None] * np.exp(-0.5 * (dv / width[:, None]) ** 2)
    return np.exp(-tau)


def voigt_tau(wavelength_obs: np.ndarray, z_abs: np.ndarray, log_n: np.ndarray) -> np.ndarray:
    """Lyman-alpha optical depth (B, n) of absorbers at z_abs (B,) with column log_n (B,),
    cm^-2, at observed wavelengths (n,) Å: a Doppler core (b = DLA_B_KMS) plus the
    Lorentzian damping wing a / (sqrt(pi) x^2) (the large-x limit of the Voigt function;
    the core dominates where it is not valid)."""
    lam0 = LYA_REST * (1 + z_abs)[:, None]
    nu_d = DLA_B_KMS / C_KMS  # Doppler width in units of the line frequency
    x = np.log(wavelength_obs[None, :] / lam0) / nu_d
    a = LYA_GAMMA * (LYA_REST * 1e-8) / (4 * np.pi * DLA_B_KMS * 1e5)
    h = np.exp(-x * x) + a / (np.sqrt(np.pi) * np.maximum(x * x, 1e-6))
    # sigma_0 = sqrt(pi) e^2 f lambda / (m_e c b), cgs
    sigma0 = 1.4974e-2 * LYA_F * (LYA_REST * 1e-8) / (DLA_B_KMS * 1e5)
    return (10.0 ** log_n)[:, None] * sigma0 * h


def forest_transmission(key: np.ndarray, z: np.ndarray, mean_transmission: np.ndarray,
                        wavelength_obs: np.ndarray) -> np.ndarray:
    """(B, npix) stochastic forest factor to multiply onto spectra that already carry the
    mean IGM transmission ``mean_transmission`` (B, npix): the log-normal fluctuation
    T_mean^(exp(delta - s^2/2) - 1) blueward of each quasar's Lyman-alpha, times its DLAs."""
    grid_dln = np.log(wavelength_obs[1] / wavelength_obs[0])
    delta = ndtri(keyed_uniform(key, _S_FOREST, len(wavelength_obs)))
    delta = gaussian_filter1d(delta, FOREST_CORRELATION_KMS / C_KMS / grid_dln, axis=1)
    delta *= FOREST_SIGMA / max(delta.std(), 1e-12)
    power = np.expm1(delta - 0.5 * FOREST_SIGMA**2)
    blue = wavelength_obs[None, :] < LYA_REST * (1 + z)[:, None]
    t = np.clip(mean_transmission, 1e-6, 1.0)
    out = np.where(blue, t**power, 1.0)
    return out * np.exp(-dla_tau(key, z, wavelength_obs))


def dla_tau(key: np.ndarray, z: np.ndarray, wavelength_obs: np.ndarray) -> np.ndarray:
    """(B, npix) Lyman-alpha optical depth of each sightline's DLAs (see module doc)."""
    u = keyed_uniform(key, _S_DLA, 1 + 2 * DLA_MAX)
    path = np.clip(z - DLA_PROXIMATE_KMS / C_KMS * (1 + z) - DLA_Z_MIN, 0.0, None)
    cdf = np.cumsum([np.exp(-DLA_RATE * path) * (DLA_RATE * path) ** k / np.prod(np.arange(1, k + 1))
                     for k in range(DLA_MAX)], axis=0).T  # (B, DLA_MAX)
    count = (u[:, :1] > cdf).sum(axis=1)
    tau = np.zeros((len(key), len(wavelength_obs)))
    for k in range(DLA_MAX):
        rows = np.flatnonzero(count > k)
        if len(rows):
            z_abs = DLA_Z_MIN + u[rows, 1 + 2 * k] * path[rows]
            # dN/dN(HI) ~ N^-2 between the bounds, by inverting its CDF
            inv_lo, inv_hi = 10.0 ** -DLA_LOG_N[0], 10.0 ** -DLA_LOG_N[1]
            log_n = -np.log10(inv_lo - u[rows, 2 + 2 * k] * (inv_lo - inv_hi))
            tau[rows] += voigt_tau(wavelength_obs, z_abs, log_n)
    return tau
