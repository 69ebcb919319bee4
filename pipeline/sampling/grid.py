"""The common log-wavelength model grid shared by every instrument.

A spectrum from any instrument fills the pixels its instrument covers and has
ivar = 0 elsewhere, so one network scores DEIMOS-, SDSS- and DESI-like spectra
alike, and a redshift is a pure shift of ``ln(1+z) / DLN_LAMBDA`` pixels.

Wavelengths are vacuum Ångström throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: Blue edge of the model grid (Å, vacuum): below DESI's 3600 Å blue limit.
LAMBDA_MIN = 3600.0
#: Red edge of the model grid (Å, vacuum): DEIMOS reaches ~11000 Å.
LAMBDA_MAX = 11000.0
#: Pixels on the model grid: 20 x 512, divisible by the CNN's pooling factors.
#: The step is then 1.0909e-4 in ln(lambda) (32.7 km/s), so DEIMOS-like coverage
#: (4100-11000 Å) spans ~9,050 pixels, close to the 8,912 of DEIMOS spectra.
N_PIXELS = 10240


@dataclass(frozen=True)
class LogGrid:
    """A log-uniform wavelength grid: ``lambda_i = lambda0 * exp(i * dln)``."""

    lambda0: float
    dln: float
    n: int

    @cached_property
    def wavelength(self) -> np.ndarray:
        """Pixel centres, Å, shape (n,), float64."""
        return self.lambda0 * np.exp(self.dln * np.arange(self.n))

    @cached_property
    def edges(self) -> np.ndarray:
        """Pixel edges, Å, shape (n+1,): geometric midpoints of the centres."""
        return self.lambda0 * np.exp(self.dln * (np.arange(self.n + 1) - 0.5))

    def pixel_of(self, wavelength) -> np.ndarray:
        """Fractional pixel coordinate of ``wavelength`` (Å); 0 is the first centre."""
        return np.log(np.asarray(wavelength) / self.lambda0) / self.dln


def model_grid() -> LogGrid:
    """The common model grid: ``N_PIXELS`` pixels from ``LAMBDA_MIN`` to ``LAMBDA_MAX``."""
    dln = np.log(LAMBDA_MAX / LAMBDA_MIN) / (N_PIXELS - 1)
    return LogGrid(LAMBDA_MIN, float(dln), N_PIXELS)


def covered_mask(lo, hi, n: int) -> np.ndarray:
    """Boolean (B, n): pixel j of spectrum b is covered when lo[b] <= j <= hi[b]."""
    j = np.arange(n, dtype=np.int32)
    covered = j >= np.asarray(lo).astype(np.int32)[:, None]
    covered &= j <= np.asarray(hi).astype(np.int32)[:, None]
    return covered


#: Highest source redshift the rest-frame libraries are built for.
Z_MAX = 7.0


def rest_grid(grid: LogGrid, z_max: float = Z_MAX) -> tuple[LogGrid, int]:
    """Rest-frame grid with the model grid's step, wide enough for 0 <= z <= z_max.

    Returns (rest, offset): observed pixel j of a source at redshift z sits at the
    fractional rest index ``j + offset - ln(1+z) / grid.dln``.
    """
    offset = int(np.ceil(np.log1p(z_max) / grid.dln)) + 2
    rest = LogGrid(grid.lambda0 * np.exp(-offset * grid.dln), grid.dln, offset + grid.n + 2)
    return rest, offset
