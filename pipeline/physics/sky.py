"""Night-sky spectrum on the model grid, the source of sky-dominated noise.

The sky is the Paranal night-sky spectrum shipped in PypeIt
(``pypeit/data/sky_spec/paranal_sky.fits``: 3000-10000 Å at 0.05 Å, relative units,
vacuum wavelengths -- its [OI] 5577 line peaks at 5578.9 Å). Only the file is read;
PypeIt itself is not imported. Redward of 10000 Å, where the file ends, the sky is
held at its mean over 9000-10000 Å (OH-dominated there too).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from astropy.io import fits

from pipeline.physics.resources import package_file
from pipeline.sampling.grid import LogGrid

_SKY_FILE = "data/sky_spec/paranal_sky.fits"
#: Range over which the red extension level is measured (Å).
_RED_FILL_RANGE = (9000.0, 10000.0)


def _read_paranal():
    path = package_file("pypeit", _SKY_FILE, "--no-deps pypeit==2.0.1")
    with fits.open(path) as hdus:
        return hdus["WAVELENGTH"].data.astype(np.float64), hdus["FLUX"].data.astype(np.float64)


def _bin_average(wav, flux, edges) -> np.ndarray:
    """Mean of a finely sampled spectrum inside each pixel (flux-conserving rebin)."""
    dx = np.gradient(wav)
    cum = np.concatenate([[0.0], np.cumsum(flux * dx)])
    pos = np.concatenate([[wav[0] - dx[0] / 2], wav + dx / 2])
    total = np.interp(edges, pos, cum)
    return np.diff(total) / np.diff(edges)


@lru_cache(maxsize=4)
def sky_on_grid(grid: LogGrid) -> np.ndarray:
    """Relative sky flux density per model pixel, median 1 over the grid, shape (n,), float64."""
    wav, flux = _read_paranal()
    sky = _bin_average(wav, flux, grid.edges)
    lo, hi = _RED_FILL_RANGE
    red = grid.edges[1:] > wav[-1]
    sky[red] = flux[(wav > lo) & (wav < hi)].mean()
    return sky / np.median(sky)
