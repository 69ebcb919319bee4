"""Catalogue rows from network predictions, in the field's column convention.

Columns follow DESI/redrock (``TARGETID, Z, ZERR, ZWARN, SPECTYPE, CHI2, NPIX_FIT,
DELTACHI2, COEFF``) plus the network's own redshift (``Z_NET, ZERR_NET``), the 68 %
interval of the refined p(z) (``Z_LO, Z_HI``), the chosen peak's probability, a secondary
redshift (``Z2``, ``Z2_PROB``), ISM properties with ``_ERR`` columns, data-quality
columns and the model and input chunk. One row per input spectrum, in input order.

With the template fit (``pipeline.fit``), Z and ZERR of galaxies and quasars are the
fit's (each class with its own basis) and Z2 is the best other fitted peak; stars take
the stellar fit's radial velocity (Z = v/c) and SUBTYPE; sky fibres the network's p(z)
summaries. Without the fit
(``--no-refine``) every row has the network's summaries and the fit's columns hold NaN
(CHI2, DELTACHI2, COEFF) or 0 (NPIX_FIT). ISM columns are NaN on rows that are not
galaxies.
"""

from __future__ import annotations

import numpy as np

from pipeline.assess import zwarning
from pipeline.fit.templates import n_templates
from pipeline.physics.noise import sample_covered
from pipeline.physics.spectypes import CODES as SPECTYPE_CODES
from pipeline.physics.spectypes import SPECTYPES

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
    "SPECTYPE": ("", "spectral type from the class head: GALAXY, QSO, STAR or SKY (GALAXY for a model without one)"),
    "SUBTYPE": ("", "stars: the best stellar template's class (O ... L, WD, WD+M, CARBON); else empty"),
    "P_GALAXY": ("", "class head probability of GALAXY (NaN for a model without a class head)"),
    "P_QSO": ("", "class head probability of QSO"),
    "P_STAR": ("", "class head probability of STAR"),
    "P_SKY": ("", "class head probability of an empty (sky) fibre"),
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
         fit=None, stars=None) -> dict[str, np.ndarray]:
    """Catalogue columns (name -> (B,) array; COEFF (B, n_templates)) for one batch of
    spectra; ``fit``: the galaxy template fit of the batch (``pipeline.fit.refine.Fit``,
    NaN on rows of other classes) or None for the network's redshifts only; ``stars``: the
    stellar fit (``pipeline.fit.stars.StarFit``) of the rows classed STAR, or None."""
    b = len(targetid)
    n_good, sn_median = data_quality(flux, ivar)
    kind = np.asarray(pred.get("spectype", np.zeros(b, np.int64)))
    galaxy, star = kind == SPECTYPE_CODES["GALAXY"], kind == SPECTYPE_CODES["STAR"]
    fitted_class = galaxy | (kind == SPECTYPE_CODES["QSO"])  # rows the template fit covers
    zwarn = np.asarray(zwarn_input, np.int64) | zwarning.from_data(n_good, sn_median)
    zwarn |= np.where(star, 0, zwarning.from_pz(pred["z"], pred["z_lo"], pred["z_hi"], pred["p2"], z_range,
                                                 fit is not None))
    out = {"TARGETID": np.asarray(targetid, np.int64)}
    out.update({"Z": pred["z"], "ZERR": pred["zerr"], "Z_LO": pred["z_lo"], "Z_HI": pred["z_hi"],
                "Z_PROB": pred["p1"].astype(np.float32), "Z2": pred["z2"], "Z2_PROB": pred["p2"].astype(np.float32),
                "CHI2": np.full(b, np.nan), "NPIX_FIT": np.zeros(b, np.int32), "DELTACHI2": np.full(b, np.nan)})
    if fit is not None:
        zwarn |= np.where(fitted_class, zwarning.from_fit(fit.z, fit.zerr, pred["z"], pred["zerr"], fit.chi2, fit.npix,
                                                    fit.coeff.shape[1], fit.deltachi2, fit.bracketed), 0)
        fitted = fitted_class & np.isfinite(fit.z_lo) & np.isfinite(fit.z_hi)  # else no peak could be fitted
        _set(out, fitted_class, {"Z": fit.z, "ZERR": fit.zerr, "Z_PROB": fit.prob.astype(np.float32), "Z2": fit.z2,
                           "Z2_PROB": fit.prob2.astype(np.float32), "CHI2": fit.chi2, "NPIX_FIT": fit.npix,
                           "DELTACHI2": fit.deltachi2})
        _set(out, fitted, {"Z_LO": fit.z_lo, "Z_HI": fit.z_hi})
    subtype = np.full(b, "", dtype=object)
    if stars is not None:
        zwarn |= np.where(star, zwarning.from_star_fit(stars.chi2, stars.npix, stars.deltachi2), 0)
        _set(out, star, {"Z": stars.z, "ZERR": stars.zerr, "Z_LO": stars.z - stars.zerr, "Z_HI": stars.z + stars.zerr,
                         "Z2": np.full(b, np.nan), "Z2_PROB": np.zeros(b, np.float32), "CHI2": stars.chi2,
                         "NPIX_FIT": stars.npix, "DELTACHI2": stars.deltachi2})
        subtype[star] = stars.subtype[star]
    out.update({"Z_NET": pred["z"], "ZERR_NET": pred["zerr"], "ZWARN": zwarn,
                "SPECTYPE": np.asarray(list(SPECTYPES.values()), dtype=object)[kind].astype(str),
                "SUBTYPE": subtype.astype(str)})
    _class_columns(out, pred, kind, b)
    out.update({"SN_MEDIAN": sn_median, "NPIX_GOOD": n_good})
    coeff = fit.coeff if fit is not None else np.full((b, n_templates()), np.nan)
    out["COEFF"] = np.where(galaxy[:, None], coeff, np.nan).astype(np.float32)
    for column, (key, _, _) in ISM_COLUMNS.items():
        if key in pred:
            out[column] = np.where(galaxy, pred[key], np.nan).astype(np.float32)
            out[f"{column}_ERR"] = np.where(galaxy, pred[f"{key}_err"], np.nan).astype(np.float32)
    out["MODEL_ID"] = np.full(b, model_id)
    out["CHUNK"] = np.full(b, chunk, np.int32)
    return out


def _set(out: dict, where: np.ndarray, values: dict) -> None:
    """Replace each column's entries at ``where`` by those of ``values`` (same length)."""
    for name, value in values.items():
        out[name] = np.where(where, value, out[name]).astype(np.asarray(out[name]).dtype)


def _class_columns(out: dict, pred: dict, kind: np.ndarray, b: int) -> None:
    """P_GALAXY, P_QSO, P_STAR, P_SKY (NaN without a class head) and the class ZWARN bits."""
    p_class = pred.get("p_class")
    for code, name in SPECTYPES.items():
        out[f"P_{name}"] = (p_class[:, code] if p_class is not None else np.full(b, np.nan)).astype(np.float32)
    if p_class is not None:
        out["ZWARN"] = out["ZWARN"] | zwarning.from_class(p_class, kind, SPECTYPE_CODES["SKY"])


def units() -> dict[str, str]:
    """Column -> astropy unit string (empty: dimensionless)."""
    out = {name: unit for name, (unit, _) in COLUMNS.items()}
    for name, (_, unit, _) in ISM_COLUMNS.items():
        out[name] = out[f"{name}_ERR"] = unit
    return out
