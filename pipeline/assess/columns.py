"""Catalogue rows from network predictions, in the field's column convention.

Columns follow DESI/redrock (``TARGETID, Z, ZERR, ZWARN, SPECTYPE, CHI2, NPIX_FIT,
DELTACHI2, COEFF``) plus the network's own redshift (``Z_NET, ZERR_NET``), the 68 %
interval of the refined p(z) (``Z_LO, Z_HI``), the chosen peak's probability, a secondary
redshift (``Z2``, ``Z2_PROB``), ISM properties with ``_ERR`` columns, data-quality
columns and the model and input chunk. One row per input spectrum, in input order.

With the template fit (``pipeline.fit``), Z and ZERR are the fit's and Z2 is the best
other fitted peak; without it (``--no-refine``) they are the network's p(z) summaries
and the fit's columns hold NaN (CHI2, DELTACHI2, COEFF) or 0 (NPIX_FIT).
"""

from __future__ import annotations

import numpy as np

from pipeline.assess import zwarning
from pipeline.fit.templates import n_templates
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
    "Z": ("", "redshift: the template fit's (the network's main p(z) peak with --no-refine)"),
    "ZERR": ("", "1-sigma error of Z"),
    "Z_NET": ("", "the network's redshift: mean of its main p(z) peak"),
    "ZERR_NET": ("", "1-sigma width of the network's main p(z) peak, in z"),
    "Z_LO": ("", "16th percentile of the refined p(z) (the network's p(z) with --no-refine)"),
    "Z_HI": ("", "84th percentile of the refined p(z) (the network's p(z) with --no-refine)"),
    "Z_PROB": ("", "p(z) probability of the peak Z came from"),
    "Z2": ("", "redshift of the best other fitted peak (the secondary p(z) peak with --no-refine)"),
    "Z2_PROB": ("", "p(z) probability of the peak Z2 came from"),
    "CHI2": ("", "chi2 of the best template fit"),
    "NPIX_FIT": ("", "pixels in the fit (ivar > 0)"),
    "DELTACHI2": ("", "chi2 of the best other fitted peak minus CHI2 (redrock's definition)"),
    "COEFF": ("", "template coefficients of the fit (pipeline/fit/templates.py), in the spectrum's units"),
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


def rows(pred: dict, targetid, zwarn_input, flux, ivar, z_range, model_id: str, chunk: int,
         fit=None) -> dict[str, np.ndarray]:
    """Catalogue columns (name -> (B,) array; COEFF (B, n_templates)) for one batch of
    spectra; ``fit``: the template fit of the batch (``pipeline.fit.refine.Fit``, with
    the peaks' probabilities) or None for the network's redshifts only."""
    n_good, sn_median = data_quality(flux, ivar)
    zwarn = (np.asarray(zwarn_input, np.int64) | zwarning.from_data(n_good, sn_median)
             | zwarning.from_pz(pred["z"], pred["z_lo"], pred["z_hi"], pred["p2"], z_range, fit is not None))
    b = len(targetid)
    out = {"TARGETID": np.asarray(targetid, np.int64)}
    if fit is None:
        out.update({"Z": pred["z"], "ZERR": pred["zerr"], "Z_LO": pred["z_lo"], "Z_HI": pred["z_hi"],
                    "Z_PROB": pred["p1"].astype(np.float32),
                    "Z2": pred["z2"], "Z2_PROB": pred["p2"].astype(np.float32), "CHI2": np.full(b, np.nan),
                    "NPIX_FIT": np.zeros(b, np.int32), "DELTACHI2": np.full(b, np.nan)})
    else:
        zwarn |= zwarning.from_fit(fit.z, fit.zerr, pred["z"], pred["zerr"], fit.chi2, fit.npix, fit.coeff.shape[1],
                                   fit.deltachi2, fit.bracketed)
        fitted = np.isfinite(fit.z_lo) & np.isfinite(fit.z_hi)  # else no peak could be fitted
        out.update({"Z": fit.z, "ZERR": fit.zerr, "Z_LO": np.where(fitted, fit.z_lo, pred["z_lo"]),
                    "Z_HI": np.where(fitted, fit.z_hi, pred["z_hi"]),
                    "Z_PROB": fit.prob.astype(np.float32), "Z2": fit.z2,
                    "Z2_PROB": fit.prob2.astype(np.float32), "CHI2": fit.chi2, "NPIX_FIT": fit.npix,
                    "DELTACHI2": fit.deltachi2})
    out.update({
        "Z_NET": pred["z"], "ZERR_NET": pred["zerr"], "ZWARN": zwarn,
        "SPECTYPE": np.full(b, "GALAXY"), "SN_MEDIAN": sn_median, "NPIX_GOOD": n_good,
    })
    out["COEFF"] = (fit.coeff if fit is not None else np.full((b, n_templates()), np.nan)).astype(np.float32)
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
