"""Cosmological distances and ages (astropy.cosmology, Planck 2018 by default).

astropy integrates the Friedmann equation on each call; a batch of thousands of
redshifts is served instead from a table interpolated in log-log, which is
accurate to < 1e-6 relative (checked in the tests against astropy directly).
"""

from __future__ import annotations

import astropy
import numpy as np
from astropy import units as u
from astropy.cosmology import Planck18

from pipeline.physics.cache import cached_arrays

#: Default cosmology: Planck Collaboration (2020), A&A 641, A6, Table 2 (TT,TE,EE+lowE+lensing+BAO).
DEFAULT_COSMOLOGY = Planck18
_Z_TABLE = np.geomspace(1e-5, 20.0, 6000)


_TABLES: dict[str, tuple] = {}


def _log_tables(cosmology=DEFAULT_COSMOLOGY):
    # astropy cosmologies are not hashable: cache by name (one table per cosmology).
    key = f"{cosmology.name}:{cosmology!r}"
    if key not in _TABLES:
        # ~1 s of astropy integrations: cached on disk, keyed by the cosmology and astropy version
        deps = (key, astropy.__version__, _Z_TABLE)
        arrays = cached_arrays("cosmology", ("log_z", "log_dl", "log_age"), deps, lambda: _build_tables(cosmology))
        _TABLES[key] = (arrays["log_z"], arrays["log_dl"], arrays["log_age"])
    return _TABLES[key]


def _build_tables(cosmology) -> dict[str, np.ndarray]:
    return {
        "log_z": np.log(_Z_TABLE),
        "log_dl": np.log(cosmology.luminosity_distance(_Z_TABLE).to_value(u.cm)),
        "log_age": np.log(cosmology.age(_Z_TABLE).to_value(u.yr)),
    }


def luminosity_distance_cm(z, cosmology=DEFAULT_COSMOLOGY) -> np.ndarray:
    """Luminosity distance in cm for redshifts z (1e-5 <= z <= 20), same shape as z."""
    log_z, log_dl, _ = _log_tables(cosmology)
    return np.exp(np.interp(np.log(z), log_z, log_dl))


def age_of_universe_yr(z, cosmology=DEFAULT_COSMOLOGY) -> np.ndarray:
    """Age of the universe at redshift z, years."""
    log_z, _, log_age = _log_tables(cosmology)
    return np.exp(np.interp(np.log(z), log_z, log_age))
