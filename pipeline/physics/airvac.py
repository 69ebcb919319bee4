"""Air <-> vacuum wavelength conversion.

Refractive index of standard air from Morton (2000, ApJS 130, 403, eq. 8), the
IAU standard used by SDSS and the VALD database. By convention wavelengths below
2000 Å are tabulated in vacuum already and are left unchanged.
"""

from __future__ import annotations

import numpy as np

#: Below this (Å) line lists and model grids are already vacuum by convention.
AIR_CONVENTION_MIN = 2000.0


def refractive_index_air(wavelength_vac) -> np.ndarray:
    """Refractive index of standard air at vacuum wavelength(s) in Å (Morton 2000, eq. 8)."""
    s2 = (1e4 / np.asarray(wavelength_vac, dtype=np.float64)) ** 2
    return 1.0 + 8.34254e-5 + 2.406147e-2 / (130.0 - s2) + 1.5998e-4 / (38.9 - s2)


def vacuum_to_air(wavelength_vac) -> np.ndarray:
    """Air wavelengths (Å) of vacuum wavelengths (Å); unchanged below 2000 Å."""
    lam = np.asarray(wavelength_vac, dtype=np.float64)
    return np.where(lam < AIR_CONVENTION_MIN, lam, lam / refractive_index_air(lam))


def air_to_vacuum(wavelength_air) -> np.ndarray:
    """Vacuum wavelengths (Å) of air wavelengths (Å); unchanged below 2000 Å.

    Inverts Morton's formula by fixed-point iteration (converges to < 1e-10 Å in 4 steps).
    """
    lam_air = np.asarray(wavelength_air, dtype=np.float64)
    lam_vac = lam_air.copy()
    for _ in range(4):
        lam_vac = lam_air * refractive_index_air(lam_vac)
    return np.where(lam_air < AIR_CONVENTION_MIN, lam_air, lam_vac)
