"""What every survey reader returns: spectra as the file holds them, and the helpers
readers share (column look-up, units, identifiers, the contract check).

A reader turns one file into ``RawSpectra``: one or more arms (each on its own
wavelength grid, vacuum Å) of flux density in 1e-17 erg/s/cm2/Å with inverse
variance, one TARGETID per spectrum, and where each came from. Resampling onto
the model grid is science and happens in ``pipeline.sampling.resample``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u

from pipeline.physics.constants import FLUX_UNIT

_F32 = np.finfo(np.float32)


class ReaderError(ValueError):
    """A file that cannot be read as spectra: names the file and the reason."""


@dataclass
class Arm:
    """wavelength: (N,) vacuum Å, increasing; flux, ivar: (B, N) in 1e-17 erg/s/cm2/Å
    and its inverse square, float32 -- or float64 where float32 cannot hold the values
    (``floats``: fluxes far from 1e-17 erg/s/cm2/Å); ivar = 0 marks bad pixels."""

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


def floats(values) -> np.ndarray:
    """``values`` as native float32 if float32 holds every finite non-zero value in its
    normal range (1.2e-38 to 3.4e38), else as float64: a flux scaled by 1e30, or the
    ivar of one scaled by 1e-30 (~1e60), keeps its precision instead of overflowing."""
    values = np.asarray(values)
    if values.dtype.kind in "iub" or (values.dtype.kind == "f" and values.dtype.itemsize <= 4):
        return np.asarray(values, np.float32)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values[np.isfinite(values) & (values != 0)])
    if magnitude.size and (magnitude.min() < _F32.tiny or magnitude.max() > _F32.max):
        return np.asarray(values, np.float64)
    return np.asarray(values, np.float32)


def column(names, choices) -> str | None:
    """The first of ``choices`` among ``names`` (case-insensitive), as ``names`` spells it."""
    lower = {n.lower(): n for n in names}
    return next((lower[c.lower()] for c in choices if c.lower() in lower), None)


def quantity(values, unit, default_unit, assumed: list, what: str) -> u.Quantity:
    """``values`` (float64) in ``unit``; without a unit, ``default_unit``, noted in ``assumed``."""
    if unit is None:
        assumed.append(f"{what} in {default_unit}")
        unit = default_unit
    return u.Quantity(np.asarray(values, dtype=np.float64), unit)


def flux_value(q: u.Quantity, wave_aa: np.ndarray) -> np.ndarray:
    """Flux density (per Å or per Hz) ``q`` in 1e-17 erg/s/cm2/Å at ``wave_aa`` (vacuum Å)."""
    return q.to_value(FLUX_UNIT, equivalencies=u.spectral_density(np.asarray(wave_aa) * u.AA))


def ivar_from_error(err: np.ndarray) -> np.ndarray:
    """1 / err^2, 0 where the error is not positive and finite (float64)."""
    err = np.asarray(err, np.float64)
    ok = np.isfinite(err) & (err > 0)
    return np.where(ok, 1.0 / np.where(ok, err, 1.0) ** 2, 0.0)


def header_targetid(*headers) -> int | None:
    """The ``TARGETID`` (or ``OBJID``) of the first header holding one, else None."""
    for key in ("TARGETID", "OBJID"):
        for header in headers:
            if key in header:
                return int(header[key])
    return None


def name_id(name: str) -> int:
    """A stable identifier from a name (CRC-32), for files that carry none."""
    return zlib.crc32(name.encode())


def check(raw: RawSpectra) -> RawSpectra:
    """``raw`` if it keeps the contract above (shapes, dtypes), else ReaderError naming
    the file, so a reader's mistake quarantines the file instead of failing later."""
    def fail(why):
        raise ReaderError(f"{raw.source}: {raw.format} reader: {why}")

    targetid = np.asarray(raw.targetid)
    if targetid.ndim != 1 or targetid.dtype.kind not in "iu":
        fail(f"TARGETID must be (B,) integers, got {targetid.dtype} {targetid.shape}")
    if not raw.arms:
        fail("no spectral arm")
    for k, arm in enumerate(raw.arms):
        wave, flux, ivar = (np.asarray(a) for a in (arm.wavelength, arm.flux, arm.ivar))
        if wave.ndim != 1:
            fail(f"arm {k}: wavelength must be 1-D, got shape {wave.shape}")
        if flux.shape != (len(targetid), wave.size) or ivar.shape != flux.shape:
            fail(f"arm {k}: flux {flux.shape} and ivar {ivar.shape} must both be "
                 f"(spectra, pixels) = {(len(targetid), wave.size)}")
        if any(a.dtype.kind != "f" for a in (wave, flux, ivar)):
            fail(f"arm {k}: wavelength, flux and ivar must be floating point, got "
                 f"{wave.dtype}, {flux.dtype}, {ivar.dtype}")
    return raw
