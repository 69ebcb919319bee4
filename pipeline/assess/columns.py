"""Catalogue rows from network predictions, in the field's column convention.

Columns follow DESI/redrock (``TARGETID, Z, ZERR, ZWARN, SPECTYPE``) plus the 68 %
interval (``Z_LO, Z_HI``), the main-peak probability, a secondary peak (``Z2``,
``Z2_PROB``), ISM properties with ``_ERR`` columns, data-quality columns and the
model and input chunk. One row per input spectrum, in input order.
"""

from __future__ import annotations

import numpy as np

from pipeline.assess import zwarning
from pipeline.physics.noise import sample_covered

#: Catalogue column -> (prediction key, unit, description). Units are astropy strings.
ISM_COLUMNS = {
    "LOG_SFR": ("log_sfr", "dex(solMass / yr)", "log10 star-formation rate (Halpha calibration)"),
    "OH12": ("metallicity", "", "gas-phase 12 + log10(O/H)"),
    "LOG_Q": ("log_q", "dex(cm / s)", "log10 ionisation parameter q"),
    "LOG_PK": ("log_pk", "dex(K / cm3)", "log10 ISM pressure P/k"),
    "EBV": ("ebv", "mag", "nebular colour excess E(B-V)"),
}
#: Column -> (unit, description) of the redshift and bookkeeping columns.
COLUMNS = {
    "TARGETID": ("", "survey identifier"),
    "Z": ("", "redshift: mean of the main p(z) peak"),
    "ZERR": ("", "1-sigma width of the main p(z) peak, in z"),
    "Z_LO": ("", "16th percentile of p(z)"),
    "Z_HI": ("", "84th percentile of p(z)"),
    "Z_PROB": ("", "probability in the main p(z) peak"),
    "Z2": ("", "redshift of the secondary p(z) peak"),
    "Z2_PROB": ("", "probability in the secondary p(z) peak"),
    "ZWARN": ("", "warning bitmask (pipeline/assess/zwarning.py; 0 = no known problem)"),
    "SPECTYPE": ("", "spectral type (GALAXY: the networks are trained on galaxies)"),
    "SN_MEDIAN": ("", "median S/N per pixel over the covered pixels"),
    "NPIX_GOOD": ("", "pixels with data on the model grid"),
    "MODEL_ID": ("", "model that made the row"),
    "CHUNK": ("", "input store chunk"),
}


def data_quality(flux: np.ndarray, ivar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(NPIX_GOOD (B,) int32, SN_MEDIAN (B,) float32) of spectra (B, npix) on the model grid.

    SN_MEDIAN is the median of flux x sqrt(ivar) over 512 pixels evenly spaced through
    each spectrum's coverage, skipping uncovered and non-finite ones (0 if none)."""
    good = ivar > 0
    n_good = np.count_nonzero(good, axis=1)
    lo = np.where(n_good > 0, good.argmax(axis=1), 0)
    hi = np.where(n_good > 0, good.shape[1] - 1 - good[:, ::-1].argmax(axis=1), 0)
    flat = sample_covered(lo, hi) + good.shape[1] * np.arange(len(good))[:, None]
    with np.errstate(invalid="ignore"):
        snr = np.take(flux, flat) * np.sqrt(np.take(ivar, flat))
    return n_good.astype(np.int32), row_median(snr, np.take(good, flat) & np.isfinite(snr)).astype(np.float32)


def row_median(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Median of each row's valid entries (B, n) -> (B,), 0 for rows with none; one
    sort of the whole array instead of numpy's per-row nanmedian."""
    k = np.count_nonzero(valid, axis=1)
    ordered = np.sort(np.where(valid, values, np.inf), axis=1)
    rows = np.arange(len(values))
    median = 0.5 * (ordered[rows, np.maximum(k - 1, 0) // 2] + ordered[rows, k // 2])
    return np.where(k > 0, median, 0.0)


def rows(pred: dict, targetid, zwarn_input, flux, ivar, z_range, model_id: str, chunk: int) -> dict[str, np.ndarray]:
    """Catalogue columns (name -> (B,) array) for one batch of spectra."""
    n_good, sn_median = data_quality(flux, ivar)
    zwarn = (np.asarray(zwarn_input, np.int64) | zwarning.from_data(n_good, sn_median)
             | zwarning.from_pz(pred["z"], pred["z_lo"], pred["z_hi"], pred["p2"], z_range))
    b = len(targetid)
    out = {
        "TARGETID": np.asarray(targetid, np.int64), "Z": pred["z"], "ZERR": pred["zerr"],
        "Z_LO": pred["z_lo"], "Z_HI": pred["z_hi"], "Z_PROB": pred["p1"].astype(np.float32),
        "Z2": pred["z2"], "Z2_PROB": pred["p2"].astype(np.float32), "ZWARN": zwarn,
        "SPECTYPE": np.full(b, "GALAXY"), "SN_MEDIAN": sn_median, "NPIX_GOOD": n_good,
    }
    for column, (key, _, _) in ISM_COLUMNS.items():
        if key in pred:
            out[column] = pred[key].astype(np.float32)
            out[f"{column}_ERR"] = pred[f"{key}_err"].astype(np.float32)
    out["MODEL_ID"] = np.full(b, model_id)
    out["CHUNK"] = np.full(b, chunk, np.int32)
    return out


def units() -> dict[str, str]:
    """Column -> astropy unit string (empty: dimensionless)."""
    out = {name: unit for name, (unit, _) in COLUMNS.items()}
    for name, (_, unit, _) in ISM_COLUMNS.items():
        out[name] = out[f"{name}_ERR"] = unit
    return out
