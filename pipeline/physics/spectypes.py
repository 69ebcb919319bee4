"""Spectral classes (redrock's SPECTYPE) in the simulator: galaxies, quasars, stars, sky.

A parameter table may carry a ``spectype`` column (float64 code, like every label):

==== ======= ================================================================
code name    what the simulator renders
==== ======= ================================================================
0    GALAXY  the galaxy model (``simulate.py``); rows without the column are galaxies
1    QSO     a quasar (``quasars.py``) plus its host galaxy from the row's galaxy columns
2    STAR    a real SDSS star (``stars.py``); its ``z`` is its radial velocity, v/c
3    SKY     an empty fibre: sky noise and sky-subtraction residuals only, z = 0
==== ======= ================================================================

``subtype`` carries redrock's SUBTYPE as a code (``SUBTYPES``): for stars the template's
class (``stars.STELLAR_TEMPLATES``: O ... L, WD, WD+M, CARBON), for quasars BAL or none.

``draw_objects`` turns a galaxy table (``priors.draw_default``) into a survey table with
the class fractions of ``SURVEY_FRACTIONS``: in SDSS and DESI about one spectrum in ten is
a quasar and about as many are stars (Bolton et al. 2012, AJ 144, 144: BOSS DR9; DESI
Collaboration 2024, AJ 168, 58, the DESI early data release), and a few per cent of the
fibres are sky fibres. Quasar redshifts follow a DESI-like n(z) (most at 1 < z < 3,
Chaussidon et al. 2023, ApJ 944, 107) with a share drawn flat in ln(1+z) up to 6.5 so the
network sees every redshift.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from pipeline.physics.artifacts import draw_keys
from pipeline.physics.constants import C_KMS
from pipeline.physics.stars import STELLAR_TEMPLATES, neighbours

#: Code -> redrock SPECTYPE.
SPECTYPES: dict[int, str] = {0: "GALAXY", 1: "QSO", 2: "STAR", 3: "SKY"}
CODES: dict[str, int] = {name: code for code, name in SPECTYPES.items()}
#: Class shares of the ``survey`` prior (see module doc).
SURVEY_FRACTIONS = {"GALAXY": 0.76, "QSO": 0.10, "STAR": 0.10, "SKY": 0.04}
#: SUBTYPE code -> name: "" (none), the stellar classes, then BAL.
SUBTYPES: tuple[str, ...] = ("",) + tuple(dict.fromkeys(s for _, s, _ in STELLAR_TEMPLATES)) + ("BAL",)
#: Quasar redshift range and the DESI-like n(z): a log-normal in 1+z (peak z ~ 1.8).
QSO_Z_RANGE = (0.05, 6.5)
QSO_LN1Z_MEAN, QSO_LN1Z_SIGMA = np.log(2.8), 0.25
QSO_FLAT_SHARE = 0.3
#: Quasar sub-populations: BAL share at z > 1.5 (Gibson et al. 2009: ~15 % of optically
#: selected quasars), reddened share and its E(B-V) range (Richards et al. 2003: ~6 %
#: red, E(B-V) up to ~0.5), the rest E(B-V) ~ Exp(0.02).
QSO_BAL_SHARE, QSO_BAL_Z_MIN = 0.15, 1.5
QSO_RED_SHARE, QSO_RED_EBV = 0.08, (0.1, 0.5)
#: Host galaxies: fraction of the 5100 Å light, up to HOST_MAX at z = 0, none beyond HOST_Z_MAX.
HOST_MAX, HOST_Z_MAX = 0.6, 1.0
#: Stars: radial velocities (km/s; halo stars reach a few hundred) and Milky Way E(B-V)
#: (high-latitude survey fields: Schlegel et al. 1998 values are mostly < 0.1 mag).
STAR_RV_SIGMA_KMS, STAR_RV_MAX_KMS = 150.0, 500.0
STAR_EBV_MEAN = 0.04


def spectype_of(table: Mapping[str, np.ndarray]) -> np.ndarray:
    """(B,) int64 SPECTYPE code of each row (GALAXY where the table has no column)."""
    cls = table.get("spectype")
    if cls is None:
        return np.zeros(len(np.atleast_1d(table["z"])), np.int64)
    return np.asarray(cls).astype(np.int64)


def subtype_names(codes) -> np.ndarray:
    """SUBTYPE strings of an array of codes."""
    return np.asarray(SUBTYPES, dtype=object)[np.asarray(codes).astype(np.int64)]


def _quasar_z(rng, n: int, z_max) -> np.ndarray:
    lo, hi = np.log1p(QSO_Z_RANGE[0]), np.log1p(np.minimum(QSO_Z_RANGE[1], z_max))
    ln1z = np.where(rng.random(n) < QSO_FLAT_SHARE, rng.uniform(lo, hi),
                    rng.normal(QSO_LN1Z_MEAN, QSO_LN1Z_SIGMA, n))
    return np.expm1(np.clip(ln1z, lo, hi))


def draw_objects(table: dict, rng: np.random.Generator, z_max, fractions: Mapping[str, float] = SURVEY_FRACTIONS
                 ) -> dict:
    """Add the class columns to a galaxy table (in place, returned): ``spectype``,
    ``subtype``, ``object_key`` and the quasar and star columns, with ``z`` replaced on
    quasar, star and sky rows. z_max (n,): the largest redshift the coverage allows."""
    n = len(table["z"])
    share = np.array([fractions.get(name, 0.0) for name in SPECTYPES.values()])
    cls = np.minimum((rng.random(n)[:, None] > np.cumsum(share / share.sum())).sum(axis=1), len(share) - 1)
    z = np.array(table["z"], np.float64)
    qso, star, sky = (cls == CODES[k] for k in ("QSO", "STAR", "SKY"))
    z[qso] = _quasar_z(rng, int(qso.sum()), z_max[qso])
    bal = qso & (z > QSO_BAL_Z_MIN) & (rng.random(n) < QSO_BAL_SHARE)
    red = rng.random(n) < QSO_RED_SHARE
    ebv = np.where(red, rng.uniform(*QSO_RED_EBV, n), rng.exponential(0.02, n))
    host = np.where(z < HOST_Z_MAX, rng.uniform(0.0, HOST_MAX, n) * (1 - z / HOST_Z_MAX), 0.0)
    template = rng.integers(0, len(STELLAR_TEMPLATES), n)
    mix = rng.random(n) * (neighbours_of(template) != template)
    rv = np.clip(rng.normal(0.0, STAR_RV_SIGMA_KMS, n), -STAR_RV_MAX_KMS, STAR_RV_MAX_KMS)
    z[star] = rv[star] / C_KMS
    z[sky] = 0.0
    subtype = np.zeros(n)
    star_subtype = np.array([SUBTYPES.index(s) for _, s, _ in STELLAR_TEMPLATES])
    subtype[star] = star_subtype[template[star]]
    subtype[bal] = SUBTYPES.index("BAL")
    table.update({
        "z": z, "spectype": cls.astype(np.float64), "subtype": subtype, "object_key": draw_keys(rng, n),
        "qso_dlogl": np.where(qso, rng.normal(0.0, 0.4, n), 0.0), "qso_bal": bal.astype(np.float64),
        "qso_ebv": np.where(qso, ebv, 0.0), "host_fraction": np.where(qso, host, 0.0),
        "star_template": np.where(star, template, 0).astype(np.float64), "star_mix": np.where(star, mix, 0.0),
        "ebv_mw": np.where(star, rng.exponential(STAR_EBV_MEAN, n), 0.0),
    })
    return table


def neighbours_of(template: np.ndarray) -> np.ndarray:
    """Each stellar template's next neighbour in its family (itself at a family's end)."""
    families = np.array([family for _, _, family in STELLAR_TEMPLATES])
    return neighbours(families)[template]
