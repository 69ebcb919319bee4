"""Parameter priors: the thesis's Table 3 grid and the default survey priors.

``draw(prior, n, rng, instrument)`` returns a parameter table (``params.COLUMNS``).

* ``thesis``: the thesis's Table 3 grid, drawn uniformly, 0.1 < z < 5.8 uniform
  (thesis §2.2 step 4). Mapped onto the model grids: log SFR -1 ... 2.5 (0.5 steps);
  Z = 0.05 ... 1 Z_sun -> the MAPPINGS grid's metallicity nodes 12+log(O/H) 7.663 ...
  8.76; log q = 7 ... 9 -> the grid's log U nodes -3.5 ... -2 (log q 6.98 ... 8.48; the
  HII grid stops at log U = -2); log P/k 5 ... 8.5 (0.5 steps); E(B-V) 0 ... 0.5
  (0.1 steps); constant-SFR ages 0.1 ... 98.1 Myr in 2 Myr steps (BC03 starts at
  0.1 Myr, the thesis at 0.01). No old population, Lyman-alpha fully escaping,
  lines at the instrument resolution: the thesis's physics, like for like.
* ``default``: galaxy populations a survey meets, with correlated properties.
  ln(1+z) uniform over 0.005 < z < 6; physical S/N log-uniform 3 ... 50; Lyman-alpha
  escape fraction 0 for 30 %, else uniform 0 ... 0.3; gas dispersion 20 ... 200 km/s;
  log P/k uniform 4.4 ... 8.4; ages bounded by the age of the universe at z.

  **Populations** (``populations.POPULATIONS``; the code is the ``galaxy_class``
  column) with redshift-dependent fractions ``population_fractions(z)``: every
  population keeps a floor of ``FLOOR`` (4 %) at every z, so the network always sees
  all of them; the remaining 76 % follow the physical fractions below.

  - quiescent (line-less + LIER together): ``QUIESCENT_FRACTION`` at ``Z_NODES``,
    falling from 45 % at z = 0 to 2 % at z = 6 -- the quiescent share of galaxies
    above ~1e10 M_sun read from the quiescent and total stellar mass functions of
    Muzzin et al. (2013, ApJ 777, 18, Table 1) and, at z > 3, Davidzon et al. (2017,
    A&A 605, A70); half of them LIER-like (about half of red-sequence galaxies show
    LINER-like emission: Yan et al. 2006, ApJ 648, 281);
  - post-starburst: 1 % at z = 0 rising to 5 % at z >= 2 (Wild et al. 2016, MNRAS 463,
    832: PSBs are a few per cent of massive galaxies at z ~ 0.5-2);
  - starburst (>= 4x the main sequence): 3 % (Rodighiero et al. 2011, ApJ 739, L40: 2-3 %
    of mass-selected star-forming galaxies);
  - EELG: 1 % at z = 0 rising to 25 % at z >= 4 (``EELG_FRACTION``; EELGs are rare
    locally (Amorín et al. 2015, A&A 578, A105) and common at z > 3 (Boyett et al. 2022,
    MNRAS 513, 4451));
  - star-forming: the rest.

  **Correlated draws** (each with the source of its relation):

  - stellar mass ``log_mass`` (log10 M_sun formed; an extra column): per population a
    Schechter shape dn/dlog M ~ (M/M*)^(alpha+1) exp(-M/M*) (``MASS_FUNCTIONS``; shapes
    of Davidzon et al. 2017 for star-forming and quiescent galaxies); EELGs uniform in
    log M 7 ... 9;
  - log SFR: the star-forming main sequence of Speagle et al. (2014, ApJS 214, 15,
    eq. 28), log SFR = (0.84 - 0.026 t) log M - (6.51 - 0.11 t), t the age of the
    universe in Gyr, with 0.3 dex scatter; starbursts +0.6 ... +1.2 dex above it;
    quiescent and post-starburst log SFR -5.5 ... -4 (no lines: L(Halpha) < 1e37 erg/s);
  - 12+log(O/H): the mass-metallicity relation of Curti et al. (2020, MNRAS 491, 944,
    eq. 5: Z0 = 8.793, log M0 = 10.02, gamma = 0.28, beta = 1.2) at z = 0, of Sanders
    et al. (2021, ApJ 914, 19: 8.51 + 0.30 log(M/1e10) at z = 2.3, 8.41 + 0.29
    log(M/1e10) at z = 3.3), linear in z between them and held beyond z = 3.3, with
    0.1 dex scatter; EELGs 7.2 ... 8.0;
  - ionisation parameter: anticorrelated with metallicity,
    log U = -0.8 log(Z/Z_sun) - 3.58 (Carton et al. 2017, MNRAS 468, 2140; see the
    review of Kewley et al. 2019, ARA&A 57, 511) with 0.3 dex scatter; EELGs
    log U -2.5 ... -2 (the HII grid's top);
  - E(B-V) of the gas: rising with mass, A(Halpha) = 0.91 + 0.77 X + 0.11 X^2 - 0.09 X^3,
    X = log(M/1e10) (Garn & Best 2010, MNRAS 409, 421; X clipped to -1 ... 1.5),
    E(B-V) = A(Halpha) / k(Halpha) (k = 3.33, Calzetti et al. 2000), times a 0.15 dex
    log-normal scatter; starbursts 1.5x dustier; quiescent/post-starburst 0 ... 0.3,
    EELGs 0 ... 0.25.

  **Broad component**: for star-forming and starburst rows a fraction
  ``BROAD_FRACTION`` (25 %) draws log SFR, 12+log(O/H), log U and E(B-V) independently
  and uniformly over wide ranges instead (the pre-population prior), so that every
  combination the line grid covers keeps support in training, also far from the
  scaling relations.

  **Lines and continuum per population**: star-forming: constant SFR for 0.1 ... 10 Gyr
  (capped at 0.9 M/SFR and 0.9 t_universe) over an older burst holding the rest of the
  mass; starburst: 1 ... 100 Myr; quiescent: all mass in a burst 40 ... 95 % of the age
  of the universe old; LIER: the same with NLR-grid lines (``nebular.load_line_grid
  ("NLR")``) at log U -4 ... -3.4, 12+log(O/H) 8.76 ... 9.3 and EW(Halpha) 0.5 ... 3 Å
  (Belfiore et al. 2016, MNRAS 461, 3111: LIER EW(Halpha) < 3 Å) -- log_sfr is then the
  Halpha-calibrated value, not star formation; post-starburst: all mass in a
  0.3 ... 1.5 Gyr burst; EELG: a 6 ... 80 Myr constant-SFR burst holding 10 ... 60 % of
  the mass (sSFR ~ 1e-9 ... 1e-7 /yr; the burst age sets EW(Halpha), ~ 250 ... 1800 Å
  rest frame for BC03 + the HII grid).
* ``survey``: ``default``, then quasars, stars and sky fibres in survey proportions
  (``spectypes.draw_objects``); galaxy rows keep every column's meaning, and a quasar's
  galaxy columns describe its host.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from pipeline.physics import constants as K
from pipeline.physics.constants import LOG_C_CMS
from pipeline.physics.cosmology import age_of_universe_yr
from pipeline.physics.instruments import Instrument
from pipeline.physics.ism_absorption import TYPICAL_OUTFLOW_KMS
from pipeline.physics.kinematics import draw_sigma_star
from pipeline.physics.nebular import load_line_grid
from pipeline.physics.params import ParameterTable
from pipeline.physics.populations import CODES, POPULATIONS
from pipeline.physics.spectypes import draw_objects

PRIORS = ("default", "thesis", "survey")

#: Minimum share of every population at every redshift (training support).
FLOOR = 0.04
#: Share of star-forming and starburst rows whose ISM parameters are drawn broadly.
BROAD_FRACTION = 0.25
#: Redshift nodes and the quiescent fraction at each (Muzzin et al. 2013; Davidzon et al. 2017).
Z_NODES = np.array([0.0, 0.35, 0.75, 1.25, 1.75, 2.25, 2.75, 3.5, 6.0])
QUIESCENT_FRACTION = np.array([0.45, 0.42, 0.35, 0.27, 0.18, 0.12, 0.08, 0.05, 0.02])
#: Share of the quiescent galaxies with LIER-like lines (Yan et al. 2006).
LIER_SHARE = 0.5
#: (z nodes, fraction) of post-starbursts (Wild et al. 2016) and EELGs (see module docstring).
PSB_FRACTION = (np.array([0.0, 2.0]), np.array([0.01, 0.05]))
EELG_FRACTION = (np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.01, 0.04, 0.10, 0.18, 0.25]))
#: Starbursts: a constant share of all galaxies (Rodighiero et al. 2011).
STARBURST_FRACTION = 0.03
#: Population -> (log M*, alpha, log M min, log M max) of its Schechter mass function.
MASS_FUNCTIONS = {
    "star-forming": (10.7, -1.3, 8.0, 11.5),
    "starburst": (10.7, -1.3, 8.5, 11.5),
    "quiescent": (10.8, -0.5, 9.5, 11.8),
    "quiescent-LIER": (10.8, -0.5, 9.5, 11.8),
    "post-starburst": (10.8, -0.5, 9.5, 11.5),
}
#: Scatter (dex) about the main sequence, the MZR and the U-Z relation.
MS_SCATTER, MZR_SCATTER, LOG_U_SCATTER = 0.3, 0.1, 0.3
#: Calzetti et al. (2000) k(Halpha): E(B-V)_gas = A(Halpha) / K_HALPHA.
K_HALPHA = 3.33
#: Every spectrum must cover rest-frame light redward of Lyman-alpha: its red edge
#: reaches at least this rest wavelength (Å), else it holds no signal to learn from.
MIN_REST_RED_EDGE = 1280.0
#: Rest wavelength of Halpha (Å, vacuum) where LIER equivalent widths are set.
_HALPHA = 6564.6


def _choice(rng, values, n):
    return np.asarray(values, dtype=np.float64)[rng.integers(0, len(values), n)]


def draw_thesis(n: int, rng: np.random.Generator, z_max) -> ParameterTable:
    """The thesis's Table 3 grid (see module docstring), without coverage."""
    u_nodes, _, oh_nodes = load_line_grid().axes
    return {
        "z": rng.uniform(0.1, np.minimum(5.8, z_max)),
        "log_sfr": _choice(rng, np.arange(-1.0, 2.51, 0.5), n),
        "metallicity": _choice(rng, oh_nodes[(oh_nodes > 7.5) & (oh_nodes <= 8.77)], n),
        "log_q": _choice(rng, u_nodes[u_nodes >= -3.5] + LOG_C_CMS, n),
        "log_pk": _choice(rng, np.arange(5.0, 8.51, 0.5), n),
        "ebv": _choice(rng, np.arange(0.0, 0.51, 0.1), n),
        "age_myr": _choice(rng, 0.1 + 2.0 * np.arange(50), n),
        "log_mass_old": np.zeros(n),
        "age_old_gyr": np.full(n, 1.0),
        "sigma_v": np.zeros(n),
        "lya_fesc": np.ones(n),
        "snr": np.full(n, 10.0),
        # Simulator realism part A: no stellar dispersion, no ISM absorption (thesis physics).
        "sigma_star": np.zeros(n),
        "ism_ew_scale": np.zeros(n),
        "v_ism": np.zeros(n),
    }


# --- scaling relations ---------------------------------------------------------------


def population_fractions(z) -> np.ndarray:
    """Share of each population at redshift z, shape (len(z), len(POPULATIONS)), rows sum to 1.

    Columns in code order (``populations.POPULATIONS``); each at least ``FLOOR``.
    """
    z = np.atleast_1d(np.asarray(z, dtype=np.float64))
    q = np.interp(z, Z_NODES, QUIESCENT_FRACTION)
    phys = np.zeros((len(z), len(POPULATIONS)))
    phys[:, CODES["quiescent"]] = (1 - LIER_SHARE) * q
    phys[:, CODES["quiescent-LIER"]] = LIER_SHARE * q
    phys[:, CODES["post-starburst"]] = np.interp(z, *PSB_FRACTION)
    phys[:, CODES["EELG"]] = np.interp(z, *EELG_FRACTION)
    phys[:, CODES["starburst"]] = STARBURST_FRACTION
    phys[:, CODES["star-forming"]] = 1 - phys.sum(axis=1)
    return FLOOR + (1 - FLOOR * len(POPULATIONS)) * phys


def main_sequence_log_sfr(log_mass, z) -> np.ndarray:
    """log10 SFR (M_sun/yr) of the main sequence (Speagle et al. 2014, eq. 28), shape of log_mass."""
    t = age_of_universe_yr(z) / 1e9
    return (0.84 - 0.026 * t) * log_mass - (6.51 - 0.11 * t)


def _curti_mzr(log_mass):
    """Curti et al. (2020) eq. 5, 12+log(O/H) at z ~ 0."""
    return 8.793 - 0.28 / 1.2 * np.log10(1 + 10.0 ** (-1.2 * (log_mass - 10.02)))


def mass_metallicity(log_mass, z) -> np.ndarray:
    """Median 12+log(O/H) at (log M, z): Curti et al. (2020) at z = 0, Sanders et al. (2021)
    at z = 2.3 and 3.3, linear in z between them, held beyond 3.3."""
    x = log_mass - 10.0
    z0, z23, z33 = _curti_mzr(log_mass), 8.51 + 0.30 * x, 8.41 + 0.29 * x
    w1 = np.clip(z / 2.3, 0.0, 1.0)
    w2 = np.clip((z - 2.3) / 1.0, 0.0, 1.0)
    return np.where(z <= 2.3, (1 - w1) * z0 + w1 * z23, (1 - w2) * z23 + w2 * z33)


def log_u_of_metallicity(metallicity) -> np.ndarray:
    """Median log U at a gas metallicity: log U = -0.8 log(Z/Z_sun) - 3.58 (Carton et al. 2017)."""
    return -0.8 * (metallicity - K.SOLAR_OH) - 3.58


def ebv_of_mass(log_mass) -> np.ndarray:
    """Median gas E(B-V) at log M: A(Halpha) of Garn & Best (2010) over k(Halpha)."""
    x = np.clip(log_mass - 10.0, -1.0, 1.5)
    return (0.91 + 0.77 * x + 0.11 * x**2 - 0.09 * x**3) / K_HALPHA


def _schechter_log_mass(rng, n, log_mstar, alpha, lo, hi) -> np.ndarray:
    """n draws of log10 M from dn/dlog M ~ (M/M*)^(alpha+1) exp(-M/M*) on [lo, hi]."""
    grid = np.linspace(lo, hi, 512)
    x = 10.0 ** (grid - log_mstar)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * np.diff(grid) * _pair_sum(x ** (alpha + 1) * np.exp(-x)))])
    return np.interp(rng.random(n), cdf / cdf[-1], grid)


def _pair_sum(y):
    return y[1:] + y[:-1]


# --- the default prior ---------------------------------------------------------------

#: Grid-safe ranges of the line parameters (inside the HII grid's axes, see params.bounds).
_OH_RANGE, _LOG_U_RANGE = (7.1, 9.28), (-3.98, -2.0)


@lru_cache(maxsize=1)
def _old_halpha_continuum():
    """(log age nodes (yr), log Z nodes, L_lambda(Halpha) per M_sun of each burst [L_sun/Å])."""
    from pipeline.physics.stellar import LOG_OLD_AGE_NODES, LOG_Z_NODES, load_stellar_library
    from pipeline.sampling.grid import model_grid, rest_grid

    rest, _ = rest_grid(model_grid())
    lib = load_stellar_library(rest)
    i = int(np.round(rest.pixel_of(_HALPHA)))
    band = lib.old[:, :, i - 20 : i + 21].astype(np.float64)  # ~ +-30 Å around Halpha
    return LOG_OLD_AGE_NODES, LOG_Z_NODES, np.median(band, axis=-1)


def lier_log_sfr(ew_halpha, log_mass_old, age_old_gyr, metallicity) -> np.ndarray:
    """Halpha-calibrated log SFR that gives an old population the Halpha equivalent width
    ``ew_halpha`` (Å, before dust), shapes (B,)."""
    from pipeline.physics.stellar import StellarLibrary

    ages, zs, cont = _old_halpha_continuum()
    ia = StellarLibrary.nearest(ages, np.log10(age_old_gyr) + 9)
    iz = StellarLibrary.nearest(zs, np.clip(metallicity - K.SOLAR_OH, zs[0], zs[-1]))
    l_cont = cont[ia, iz] * 10.0**log_mass_old * K.L_SUN_ERG_S
    return np.log10(ew_halpha * l_cont * K.SFR_HALPHA_CALIBRATION)


def _log_uniform(rng, lo, hi, n):
    return 10.0 ** rng.uniform(np.log10(lo), np.log10(hi), n)


def _young_and_old(log_mass, log_sfr, age_myr, t_univ_myr):
    """(age_myr, log_mass_old): the constant-SFR phase capped so that it forms at most
    90 % of the mass (and lasts < 0.9 t_universe); the old burst holds the rest."""
    mass, sfr = 10.0**log_mass, 10.0**log_sfr
    age = np.clip(np.minimum(age_myr, np.minimum(0.9 * mass / sfr / 1e6, 0.9 * t_univ_myr)), 0.2, None)
    return age, np.log10(np.maximum(mass - sfr * age * 1e6, 1e-3 * mass))


def _old_age(rng, t_univ_myr, n):
    return np.clip(t_univ_myr / 1e3 * rng.uniform(0.4, 0.95, n), 0.3, 13.5)


def _line_parameters(rng, log_mass, z, n):
    """Correlated (metallicity, log U, ebv) from the MZR, the U-Z and the dust-mass relations."""
    oh = np.clip(mass_metallicity(log_mass, z) + rng.normal(0, MZR_SCATTER, n), *_OH_RANGE)
    log_u = np.clip(log_u_of_metallicity(oh) + rng.normal(0, LOG_U_SCATTER, n), *_LOG_U_RANGE)
    ebv = np.clip(ebv_of_mass(log_mass) * 10.0 ** rng.normal(0, 0.15, n), 0.0, 1.5)
    return oh, log_u, ebv


def _star_forming(rng, z, t_univ_myr, starburst: bool) -> dict:
    n = len(z)
    log_mass = _schechter_log_mass(rng, n, *MASS_FUNCTIONS["starburst" if starburst else "star-forming"])
    offset = rng.uniform(0.6, 1.2, n) if starburst else rng.normal(0.0, MS_SCATTER, n)
    log_sfr = main_sequence_log_sfr(log_mass, z) + offset
    oh, log_u, ebv = _line_parameters(rng, log_mass, z, n)
    if starburst:
        ebv = np.clip(1.5 * ebv, 0.0, 1.5)
    broad = rng.random(n) < BROAD_FRACTION
    sfr_range = (0.5, 2.5) if starburst else (-1.0, 2.0)
    log_sfr = np.where(broad, rng.uniform(*sfr_range, n), log_sfr)
    oh = np.where(broad, rng.uniform(7.2, 9.2, n), oh)
    log_u = np.where(broad, rng.uniform(-3.8, -2.0, n), log_u)
    ebv = np.where(broad, rng.uniform(0.0, 0.8 if starburst else 0.6, n), ebv)
    age = 10.0 ** (rng.uniform(0.0, 2.0, n) if starburst else rng.uniform(2.0, 4.0, n))
    age, log_mass_old = _young_and_old(log_mass, log_sfr, age, t_univ_myr)
    return {"log_sfr": log_sfr, "metallicity": oh, "log_u": log_u, "ebv": ebv, "age_myr": age,
            "log_mass_old": log_mass_old, "age_old_gyr": _old_age(rng, t_univ_myr, n)}


def _quiescent(rng, z, t_univ_myr, lier: bool) -> dict:
    n = len(z)
    log_mass = _schechter_log_mass(rng, n, *MASS_FUNCTIONS["quiescent-LIER" if lier else "quiescent"])
    age_old = _old_age(rng, t_univ_myr, n)
    if lier:
        oh = rng.uniform(8.76, 9.28, n)
        log_u = rng.uniform(-3.98, -3.4, n)
        log_sfr = lier_log_sfr(_log_uniform(rng, 0.5, 3.0, n), log_mass, age_old, oh)
    else:
        oh = np.clip(mass_metallicity(log_mass, z) + rng.normal(0, MZR_SCATTER, n), *_OH_RANGE)
        log_u = rng.uniform(*_LOG_U_RANGE, n)
        log_sfr = rng.uniform(-5.5, -4.0, n)
    return {"log_sfr": log_sfr, "metallicity": oh, "log_u": log_u, "ebv": rng.uniform(0.0, 0.3, n),
            "age_myr": np.minimum(10.0 ** rng.uniform(2.0, 3.0, n), 0.9 * t_univ_myr),
            "log_mass_old": log_mass, "age_old_gyr": age_old}


def _post_starburst(rng, z, t_univ_myr) -> dict:
    n = len(z)
    log_mass = _schechter_log_mass(rng, n, *MASS_FUNCTIONS["post-starburst"])
    oh = np.clip(mass_metallicity(log_mass, z) + rng.normal(0, MZR_SCATTER, n), *_OH_RANGE)
    return {"log_sfr": rng.uniform(-5.5, -4.0, n), "metallicity": oh, "log_u": rng.uniform(*_LOG_U_RANGE, n),
            "ebv": rng.uniform(0.0, 0.3, n),
            "age_myr": np.minimum(10.0 ** rng.uniform(2.0, 3.0, n), 0.9 * t_univ_myr),
            "log_mass_old": log_mass,
            "age_old_gyr": np.clip(np.minimum(rng.uniform(0.3, 1.5, n), 0.9 * t_univ_myr / 1e3), 0.3, None)}


def _eelg(rng, z, t_univ_myr) -> dict:
    n = len(z)
    log_mass = rng.uniform(7.0, 9.0, n)
    age = _log_uniform(rng, 6.0, 80.0, n)
    young = rng.uniform(0.1, 0.6, n)  # share of the mass formed in the current burst
    log_sfr = log_mass + np.log10(young / (age * 1e6))
    return {"log_sfr": log_sfr, "metallicity": rng.uniform(7.2, 8.0, n), "log_u": rng.uniform(-2.5, -2.0, n),
            "ebv": rng.uniform(0.0, 0.25, n), "age_myr": age, "log_mass_old": log_mass + np.log10(1 - young),
            "age_old_gyr": _old_age(rng, t_univ_myr, n)}


def _population_rows(code: int, rng, z, t_univ_myr) -> dict:
    name = POPULATIONS[code]
    if name in ("star-forming", "starburst"):
        return _star_forming(rng, z, t_univ_myr, starburst=name == "starburst")
    if name in ("quiescent", "quiescent-LIER"):
        return _quiescent(rng, z, t_univ_myr, lier=name == "quiescent-LIER")
    if name == "post-starburst":
        return _post_starburst(rng, z, t_univ_myr)
    return _eelg(rng, z, t_univ_myr)


def draw_populations(z, rng: np.random.Generator) -> np.ndarray:
    """Population code of each row (int64, (n,)), drawn from ``population_fractions(z)``."""
    cdf = np.cumsum(population_fractions(z), axis=1)
    return np.minimum((rng.random(len(cdf))[:, None] > cdf).sum(axis=1), len(POPULATIONS) - 1)


def draw_default(n: int, rng: np.random.Generator, z_max) -> ParameterTable:
    """Survey-like populations with correlated properties (see module docstring), without coverage."""
    z = np.expm1(rng.uniform(np.log1p(0.005), np.log1p(np.minimum(6.0, z_max))))
    cls = draw_populations(z, rng)
    t_univ_myr = age_of_universe_yr(z) / 1e6
    per_row = {k: np.empty(n) for k in ("log_sfr", "metallicity", "log_u", "ebv", "age_myr", "log_mass_old",
                                         "age_old_gyr")}
    for code in POPULATIONS:  # one vectorised draw per population, not per row
        rows = np.flatnonzero(cls == code)
        if len(rows):
            for key, values in _population_rows(code, rng, z[rows], t_univ_myr[rows]).items():
                per_row[key][rows] = values
    log_u = per_row.pop("log_u")
    age = per_row["age_myr"]
    log_mass = np.log10(10.0 ** per_row["log_sfr"] * age * 1e6 * (cls != CODES["quiescent-LIER"])
                        + 10.0 ** per_row["log_mass_old"])
    table = {
        "z": z,
        **per_row,
        "log_sfr": np.clip(per_row["log_sfr"], -5.9, 3.9),
        "log_q": log_u + LOG_C_CMS,
        "log_pk": rng.uniform(4.4, 8.4, n),
        "age_myr": np.clip(age, 0.2, 9000.0),
        "sigma_v": rng.uniform(20.0, 200.0, n),
        "lya_fesc": rng.uniform(0.0, 0.3, n) * (rng.random(n) > 0.3),
        "snr": 10.0 ** rng.uniform(np.log10(3.0), np.log10(50.0), n),
        "galaxy_class": cls.astype(np.float64),
        "log_mass": log_mass,
    }
    # Stellar dispersion from the stellar mass (kinematics.draw_sigma_star); ISM absorption
    # log-normal around the LBG composite (0.2 dex), outflow velocity around -150 km/s
    # (Shapley et al. 2003). Drawn after everything else, so the other columns keep their streams.
    table["sigma_star"] = draw_sigma_star(log_mass, rng)
    table["ism_ew_scale"] = np.clip(10.0 ** rng.normal(0.0, 0.2, n), 0.0, 5.0)
    table["v_ism"] = np.clip(rng.normal(TYPICAL_OUTFLOW_KMS, 100.0, n), -1000.0, 1000.0)
    return table


def draw(prior: str, n: int, rng: np.random.Generator, instrument: Instrument) -> ParameterTable:
    """n parameter rows from the named prior, with the instrument's coverage."""
    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; choose one of {PRIORS}")
    lo, hi = instrument.draw_coverage(rng, n)
    z_max = hi / MIN_REST_RED_EDGE - 1
    table = (draw_thesis if prior == "thesis" else draw_default)(n, rng, z_max)
    if prior == "survey":
        draw_objects(table, rng, z_max)
    table["lambda_lo"], table["lambda_hi"] = lo, hi
    return table
