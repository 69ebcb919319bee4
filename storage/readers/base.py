"""What every survey reader returns: spectra as the file holds them.

A reader turns one file into ``RawSpectra``: one or more arms (each on its own
wavelength grid, vacuum Å) of flux density in 1e-17 erg/s/cm2/Å with inverse
variance, one TARGETID per spectrum, and where each came from. Resampling onto
the model grid is science and happens in ``pipeline.sampling.resample``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class ReaderError(ValueError):
    """A file that cannot be read as spectra: names the file and the reason."""


@dataclass
class Arm:
    """wavelength: (N,) vacuum Å, increasing; flux, ivar: (B, N) float32 in
    1e-17 erg/s/cm2/Å and its inverse square; ivar = 0 marks bad pixels."""

    wavelength: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray


@dataclass
class RawSpectra:
    """The spectra of one file: targetid (B,) int64, arms, the file, its format."""

    source: str
    format: str
    targetid: np.ndarray
    arms: list[Arm]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.targetid)
