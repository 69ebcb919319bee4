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
* ``default``: continuous priors that a survey meets. ln(1+z) uniform over
  0.005 < z < 6; 55 % star-forming, 15 % starburst, 30 % quiescent; physical
  S/N log-uniform 3 ... 50; Lyman-alpha escape fraction 0 for 30 %, else
  uniform 0 ... 0.3; ages bounded by the age of the universe at z.
"""

from __future__ import annotations

import numpy as np

from pipeline.physics.constants import LOG_C_CMS
from pipeline.physics.cosmology import age_of_universe_yr
from pipeline.physics.instruments import Instrument
from pipeline.physics.ism_absorption import TYPICAL_OUTFLOW_KMS
from pipeline.physics.kinematics import draw_sigma_star
from pipeline.physics.nebular import load_line_grid
from pipeline.physics.params import ParameterTable

PRIORS = ("default", "thesis")
#: Galaxy classes of the default prior: name -> probability.
CLASS_FRACTIONS = {"star-forming": 0.55, "starburst": 0.15, "quiescent": 0.30}


def _choice(rng, values, n):
    return np.asarray(values, dtype=np.float64)[rng.integers(0, len(values), n)]


#: Every spectrum must cover rest-frame light redward of Lyman-alpha: its red edge
#: reaches at least this rest wavelength (Å), else it holds no signal to learn from.
MIN_REST_RED_EDGE = 1280.0


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


def _uniform_by_class(rng, cls, ranges) -> np.ndarray:
    """Uniform draw whose (lo, hi) depends on each row's class index."""
    lo, hi = (np.asarray(v, dtype=np.float64)[cls] for v in zip(*ranges))
    return rng.uniform(lo, hi)


def draw_default(n: int, rng: np.random.Generator, z_max) -> ParameterTable:
    """Continuous survey-like priors (see module docstring), without coverage."""
    z = np.expm1(rng.uniform(np.log1p(0.005), np.log1p(np.minimum(6.0, z_max))))
    cls = rng.choice(len(CLASS_FRACTIONS), size=n, p=list(CLASS_FRACTIONS.values()))
    t_univ_myr = age_of_universe_yr(z) / 1e6
    log_age = _uniform_by_class(rng, cls, [(2.0, 4.0), (0.0, 2.0), (2.0, 3.0)])
    escape = rng.uniform(0.0, 0.3, n) * (rng.random(n) > 0.3)
    table = {
        "z": z,
        "log_sfr": _uniform_by_class(rng, cls, [(-1.0, 2.0), (0.5, 2.5), (-3.0, -1.0)]),
        "metallicity": rng.uniform(7.2, 9.2, n),
        "log_q": rng.uniform(-3.8, -2.0, n) + LOG_C_CMS,
        "log_pk": rng.uniform(4.4, 8.4, n),
        "ebv": _uniform_by_class(rng, cls, [(0.0, 0.6), (0.0, 0.8), (0.0, 0.3)]),
        "age_myr": np.minimum(10.0**log_age, 0.9 * t_univ_myr),
        "log_mass_old": _uniform_by_class(rng, cls, [(8.0, 10.0), (7.0, 9.5), (10.0, 11.5)]),
        "age_old_gyr": np.clip(t_univ_myr / 1e3 * rng.uniform(0.4, 0.95, n), 0.3, 13.5),
        "sigma_v": rng.uniform(20.0, 200.0, n),
        "lya_fesc": escape,
        "snr": 10.0 ** rng.uniform(np.log10(3.0), np.log10(50.0), n),
        "galaxy_class": cls.astype(np.float64),
    }
    # Simulator realism part A (placeholders until the correlated priors): sigma_star from
    # the stellar mass (kinematics.draw_sigma_star); ISM absorption log-normal around the
    # LBG composite (0.2 dex), outflow velocity around -150 km/s (Shapley et al. 2003).
    log_mass = np.log10(10.0 ** table["log_mass_old"] + 10.0 ** table["log_sfr"] * table["age_myr"] * 1e6)
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
    table["lambda_lo"], table["lambda_hi"] = lo, hi
    return table
