"""The survey store: observed spectra on the model grid, ready to score.

======================  ================  =========  ==========================================
variable                dims              dtype      meaning
======================  ================  =========  ==========================================
``flux``                spectrum, pixel   float16    observed flux / ``flux_scale``
``ivar``                spectrum, pixel   float16    ivar x ``flux_scale``^2 (0: no data)
``flux_scale``          spectrum          float32    rms of the covered flux, 1e-17 erg/s/cm2/Å
``targetid``            spectrum          int64      the survey's identifier
``source_file``         spectrum          int32      index into ``file_path``
``source_row``          spectrum          int32      row of the spectrum in its file
``zwarn_input``         spectrum          int64      ZWARN bits earned by the input itself
``wavelength``          pixel             float64    vacuum Å, the common model grid
``file_path``           file              str        the ingested files, in order
``true_*``              spectrum          float32    simulated stores only: the truth (``TRUTH``)
======================  ================  =========  ==========================================

Scaling by the rms keeps float16 within range: the flux becomes O(1) (lines up to
~1e4 x rms) and the scaled ivar is the S/N squared at the rms level (saturating at
65,504, i.e. S/N 256, where the weight no longer matters).
"""

from __future__ import annotations

import numpy as np

from pipeline.physics.constants import FLUX_UNIT_TEXT
from storage.store import PIXEL, SPECTRUM, Variable

KIND = "survey"
SCHEMA_VERSION = 1
FILE = "file"
#: Labels a simulated survey store keeps as ``true_<label>`` for evaluation: the
#: redshift, the ISM properties the networks predict and the target S/N.
TRUTH = ("z", "log_sfr", "metallicity", "log_q", "log_pk", "ebv", "snr")
#: Truth of stores simulated with spectral classes (``pipeline.physics.spectypes``).
CLASS_TRUTH = ("spectype", "subtype")
_F16_MAX = np.float32(np.finfo(np.float16).max)


def variables() -> dict[str, Variable]:
    return {
        "flux": Variable((SPECTRUM, PIXEL), "float16", {"long_name": "observed flux / flux_scale"}),
        "ivar": Variable((SPECTRUM, PIXEL), "float16", {"long_name": "inverse variance x flux_scale^2"}),
        "flux_scale": Variable((SPECTRUM,), "float32", {"units": FLUX_UNIT_TEXT, "long_name": "rms of covered flux"}),
        "targetid": Variable((SPECTRUM,), "int64", {"long_name": "survey identifier"}),
        "source_file": Variable((SPECTRUM,), "int32", {"long_name": "index into file_path"}),
        "source_row": Variable((SPECTRUM,), "int32", {"long_name": "row in the source file"}),
        "zwarn_input": Variable((SPECTRUM,), "int64", {"long_name": "ZWARN bits from the input"}),
        "wavelength": Variable((PIXEL,), "float64", {"units": "Angstrom", "long_name": "vacuum wavelength"}),
        "file_path": Variable((FILE,), "str", {"long_name": "ingested file"}),
    }


def truth_variables(classes: bool = False) -> dict[str, Variable]:
    """The ``true_*`` variables of a simulated survey store (with ``classes``, also the
    spectral class truth ``CLASS_TRUTH``)."""
    names = TRUTH + (CLASS_TRUTH if classes else ())
    return {f"true_{k}": Variable((SPECTRUM,), "float32", {"long_name": f"simulated {k}"}) for k in names}


def has_truth(group) -> bool:
    """True if the (open) store group holds the simulation truth."""
    return all(f"true_{k}" in group for k in TRUTH)


def pack(flux: np.ndarray, ivar: np.ndarray, unit: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Stored arrays (flux, ivar, flux_scale) from flux, ivar (B, npix), float32 or float64,
    in units of ``unit`` (B,) (1e-17 erg/s/cm2/Å when None; ingest passes the powers of
    two of ``regrid.to_model_grid_scaled``).

    Each row is first divided by a power of two near its largest flux, so the float32
    arithmetic below (the rms, the division, ivar x scale^2) never overflows or
    underflows, whatever the flux level (1e-30 to 1e30 and beyond); dividing by a
    power of two is exact, so ordinary input packs to the same bytes as without it."""
    good = ivar > 0
    n = np.maximum(good.sum(axis=1), 1)
    f = np.where(good, flux, 0.0)
    p = _power_of_two_peak(f)
    f = (f / p.astype(f.dtype)[:, None]).astype(np.float32)
    scale = np.sqrt(np.einsum("ij,ij->i", f, f) / n).astype(np.float32)
    scale[~(scale > 0)] = 1.0
    q = p.astype(ivar.dtype)[:, None]
    w = ivar * q
    w *= q  # ivar x p^2, in two exact steps (p^2 alone may leave float32's range)
    if w.dtype != np.float32:
        w = np.minimum(w, np.finfo(np.float32).max).astype(np.float32)
    norm_ivar = np.minimum(w * (scale * scale)[:, None], _F16_MAX)
    physical = scale * p * (1.0 if unit is None else np.asarray(unit, np.float64))
    return {"flux": (f / scale[:, None]).astype(np.float16), "ivar": norm_ivar.astype(np.float16),
            "flux_scale": physical.astype(np.float32)}


def _power_of_two_peak(f: np.ndarray) -> np.ndarray:
    """(B,) float64: 2**(e-1) with each row's largest |f| in [2**(e-1), 2**e) (1 where the
    row is 0 or not finite); max and min, no temporary of the array's size."""
    peak = np.maximum(f.max(axis=1, initial=0.0), -f.min(axis=1, initial=0.0)).astype(np.float64)
    _, exponent = np.frexp(np.where(np.isfinite(peak) & (peak > 0), peak, 1.0))
    return np.ldexp(1.0, exponent - 1)


def normalised(batch, out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(flux / flux_scale, ivar x flux_scale^2), each (B, npix) float32, as stored.

    For scale-free consumers (network inputs, S/N, pixel counts) this is all they
    need: scoring never unpacks. The float16 -> float32 cast goes through torch
    (vectorised; numpy's cast is several times slower); ``out``, two float32 arrays
    of at least B rows, receives it without allocating (a fresh 40 MB array per
    batch costs more page faults than the cast itself)."""
    import torch

    result = []
    for i, key in enumerate(("flux", "ivar")):
        source = torch.from_numpy(np.ascontiguousarray(batch[key]))
        if out is None:
            result.append(source.float().numpy())
        else:
            target = out[i][: len(source)]
            torch.from_numpy(target).copy_(source)
            result.append(target)
    return tuple(result)


def unpack(batch) -> tuple[np.ndarray, np.ndarray]:
    """(flux, ivar) (B, npix) float32 in physical units from stored arrays."""
    scale = np.asarray(batch["flux_scale"], dtype=np.float32)[:, None]
    flux = np.asarray(batch["flux"], dtype=np.float32) * scale
    ivar = np.asarray(batch["ivar"], dtype=np.float32) / (scale * scale)
    return flux, ivar


def require_truth(group) -> None:
    """Raise ValueError, naming the store, unless the (open) group holds the truth."""
    if not has_truth(group):
        raise ValueError(f"{group.store} holds no simulation truth (true_* arrays): only stores made by "
                         "`spectroflow generate --kind survey` can be evaluated")


def read_truth(group) -> dict[str, np.ndarray]:
    """The truth of a simulated survey store (open group): label -> (N,) float32.
    Raises ValueError when the store holds none (a store of real survey files)."""
    require_truth(group)
    return {k: group[f"true_{k}"][:] for k in TRUTH + CLASS_TRUTH if f"true_{k}" in group}
