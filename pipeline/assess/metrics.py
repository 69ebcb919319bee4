"""Scores for redshift, ISM-property and p(z) predictions (pure numpy).

Redshift metrics (the definitions of the thesis this project reproduces):

* normalised error  dz = (z_pred - z_true) / (1 + z_true);
* NMAD = 1.48 * median(|dz|) (Hoaglin et al. 2000; Ilbert et al. 2008 as used in
  the thesis) -- ``nmad``. The outlier-robust *centred* variant
  1.4826 * median(|dz - median(dz)|) is ``nmad_centred``;
* catastrophic outlier fraction eta = fraction with |dz| > 0.05 (a fraction in
  [0, 1]; print it with a ``".1%"`` format in ``format_table``);
* bias = median(dz) (``bias``), and mean(dz) (``bias_mean``) for completeness.

Bad input. An object whose *truth* is not finite (or has z_true <= -1) cannot be
scored and is dropped everywhere. An object with a finite truth but a non-finite
*prediction* is a failed prediction: it counts in ``n`` and ``n_failed``, it
counts as a catastrophic outlier in eta (a failure must not improve the score),
and it is left out of NMAD and bias (which have no value to use for it). The same
rule holds for ISM properties (failed rows are left out of RMSE and pulls and
reported in ``n_failed``) and for interval coverage (a non-finite interval does
not cover the truth). No function here raises on NaN; statistics of an empty
set are NaN.

ISM properties (Gaussian heads predicting a mean and a sigma): RMSE of
(pred - true), the pull (pred - true) / sigma with its mean and standard deviation
(0 and 1 when the errors are calibrated), and the fraction with |pull| < 1
(erf(1/sqrt 2) ~ 0.683 when calibrated).

p(z) calibration: the probability integral transform PIT = CDF(truth) of each
binned p(z) (uniform on [0, 1] when the p(z) are calibrated; Dawid 1984,
Polsterer et al. 2016), its histogram, its Kolmogorov-Smirnov distance to the
uniform distribution, and the coverage of given credible intervals.

Rows (per-bin and per-property results) are plain dicts of str / int / float /
None, so that ``json.dumps`` accepts them (NaN is written as ``NaN``) and
``format_table`` prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: |dz|/(1+z) above which a redshift is a catastrophic outlier (strictly greater).
OUTLIER_THRESHOLD = 0.05
#: NMAD scale of the thesis (Hoaglin et al. 2000; Ilbert et al. 2008): 1.48 median(|dz|).
NMAD_SCALE = 1.48
#: 1 / Phi^-1(3/4): the MAD-to-sigma factor of the centred NMAD.
NMAD_SCALE_CENTRED = 1.4826
#: Label of the row over all objects in ``binned_redshift_metrics``.
ALL_LABEL = "all"


def _flat_float(*arrays) -> list[np.ndarray]:
    """Broadcast the inputs against each other and return them as 1-D float64 arrays."""
    return [np.ravel(a) for a in np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in arrays))]


def _median(x: np.ndarray) -> float:
    """Median of a 1-D array as a float; NaN (no warning) when empty."""
    return float(np.median(x)) if x.size else float("nan")


def _mean(x: np.ndarray) -> float:
    """Mean of a 1-D array as a float; NaN (no warning) when empty."""
    return float(np.mean(x)) if x.size else float("nan")


def delta_z(z_pred, z_true) -> np.ndarray:
    """Normalised redshift error dz = (z_pred - z_true) / (1 + z_true).

    z_pred, z_true: broadcastable arrays of redshifts (dimensionless).
    Returns float64 of the broadcast shape; NaN where either input is NaN.
    """
    z_pred, z_true = np.broadcast_arrays(np.asarray(z_pred, np.float64), np.asarray(z_true, np.float64))
    return (z_pred - z_true) / (1.0 + z_true)


def _scored_dz(z_pred, z_true) -> tuple[np.ndarray, int, int]:
    """(dz of the finite predictions (M,), n scored objects, n failed predictions).

    Objects with a non-finite truth or z_true <= -1 are dropped (not scored);
    objects with a finite truth and a non-finite prediction are failures.
    """
    z_pred, z_true = _flat_float(z_pred, z_true)
    scored = np.isfinite(z_true) & (z_true > -1.0)
    dz = delta_z(z_pred[scored], z_true[scored])
    ok = np.isfinite(dz)
    return dz[ok], int(scored.sum()), int((~ok).sum())


def _nmad(dz: np.ndarray) -> float:
    """Thesis NMAD of finite normalised errors dz (M,)."""
    return NMAD_SCALE * _median(np.abs(dz))


def _nmad_centred(dz: np.ndarray) -> float:
    """Centred NMAD of finite normalised errors dz (M,)."""
    return NMAD_SCALE_CENTRED * _median(np.abs(dz - _median(dz)))


def _eta(dz: np.ndarray, n: int, n_failed: int, threshold: float) -> float:
    """Outlier fraction of n objects: finite dz (M,) beyond threshold, plus the n_failed."""
    if n == 0:
        return float("nan")
    return float((np.count_nonzero(np.abs(dz) > threshold) + n_failed) / n)


def nmad(z_pred, z_true) -> float:
    """Thesis NMAD = 1.48 * median(|dz|), dz = (z_pred - z_true)/(1 + z_true).

    Hoaglin et al. (2000); Ilbert et al. (2008) as used by the thesis. Not centred
    on the median of dz (see ``nmad_centred``). Failed (non-finite) predictions are
    left out. Inputs: broadcastable redshift arrays. NaN if nothing is left.
    """
    return _nmad(_scored_dz(z_pred, z_true)[0])


def nmad_centred(z_pred, z_true) -> float:
    """Centred NMAD = 1.4826 * median(|dz - median(dz)|) (robust sigma of dz).

    Same inputs and NaN handling as ``nmad``; insensitive to a constant bias.
    """
    return _nmad_centred(_scored_dz(z_pred, z_true)[0])


def outlier_fraction(z_pred, z_true, threshold: float = OUTLIER_THRESHOLD) -> float:
    """Catastrophic outlier fraction eta: fraction of objects with |dz| > threshold.

    dz = (z_pred - z_true)/(1 + z_true); the comparison is strict, so |dz| equal to
    the threshold is not an outlier (compared in float64: pick test values that are
    exact). Failed (non-finite) predictions count as outliers. Returns a fraction
    in [0, 1]; NaN when no object has a valid truth.
    """
    return _eta(*_scored_dz(z_pred, z_true), threshold)


def bias(z_pred, z_true) -> float:
    """Median of dz = (z_pred - z_true)/(1 + z_true); failed predictions left out."""
    return _median(_scored_dz(z_pred, z_true)[0])


def bias_mean(z_pred, z_true) -> float:
    """Mean of dz = (z_pred - z_true)/(1 + z_true); failed predictions left out."""
    return _mean(_scored_dz(z_pred, z_true)[0])


def redshift_metrics(z_pred, z_true, threshold: float = OUTLIER_THRESHOLD) -> dict:
    """All redshift scores of one sample as a plain dict.

    Keys: n (objects with a valid truth), n_failed (non-finite predictions among
    them), nmad, nmad_centred, eta, bias (median dz), bias_mean. See the module
    docstring for the definitions and the NaN rules; empty samples give n=0 and
    NaN scores.
    """
    dz, n, n_failed = _scored_dz(z_pred, z_true)
    return {
        "n": n,
        "n_failed": n_failed,
        "nmad": _nmad(dz),
        "nmad_centred": _nmad_centred(dz),
        "eta": _eta(dz, n, n_failed, threshold),
        "bias": _median(dz),
        "bias_mean": _mean(dz),
    }


def binned_redshift_metrics(
    z_pred, z_true, by, edges: Sequence[float], labels: Sequence[str] | None = None,
    threshold: float = OUTLIER_THRESHOLD,
) -> list[dict]:
    """``redshift_metrics`` in bins of a variable, plus a row over all objects.

    z_pred, z_true, by: broadcastable arrays (N,); ``by`` is the binning variable
    (e.g. z_true, or S/N). edges: (B+1,) increasing bin edges; bin i holds
    edges[i] <= by < edges[i+1], the last bin also holds by == edges[-1]. Objects
    outside the edges (or with NaN ``by``) are in no bin but are in the final
    ``"all"`` row, which scores every object passed.

    Returns B+1 dicts: {"bin": label, "lo", "hi", **redshift_metrics(...)}, with
    lo/hi None for the "all" row; empty bins have n=0 and NaN scores. Default
    labels are "[lo, hi)" ("[lo, hi]" for the last bin).
    """
    z_pred, z_true, by = _flat_float(z_pred, z_true, by)
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be 1-D, strictly increasing, with >= 2 values; got {edges}")
    n_bins = edges.size - 1
    if labels is None:
        labels = [f"[{lo:g}, {hi:g}{']' if i == n_bins - 1 else ')'}"
                  for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))]
    if len(labels) != n_bins:
        raise ValueError(f"{len(labels)} labels for {n_bins} bins")
    # Bin index of each object; -1 / n_bins for outside, NaN `by` lands at n_bins.
    index = np.searchsorted(edges, by, side="right") - 1
    index[by == edges[-1]] = n_bins - 1
    rows = []
    for i, label in enumerate(labels):
        sel = index == i
        rows.append({"bin": str(label), "lo": float(edges[i]), "hi": float(edges[i + 1]),
                     **redshift_metrics(z_pred[sel], z_true[sel], threshold)})
    rows.append({"bin": ALL_LABEL, "lo": None, "hi": None, **redshift_metrics(z_pred, z_true, threshold)})
    return rows


def gaussian_metrics(pred, sigma, true) -> dict:
    """Scores of one Gaussian-head property: mean prediction ``pred``, its ``sigma``.

    pred, sigma, true: broadcastable arrays (N,) in the property's own unit
    (e.g. dex). pull = (pred - true)/sigma. Keys: n (objects with a finite truth),
    n_failed (of those, rows with non-finite pred/sigma or sigma <= 0: left out of
    everything else), rmse (same unit as the property), pull_mean, pull_std
    (population std, ddof=0), frac_pull_lt_1 (fraction with |pull| < 1; ~0.683
    when calibrated). Empty samples give NaN scores.
    """
    pred, sigma, true = _flat_float(pred, sigma, true)
    has_truth = np.isfinite(true)
    ok = has_truth & np.isfinite(pred) & np.isfinite(sigma) & (sigma > 0)
    resid = pred[ok] - true[ok]
    pull = resid / sigma[ok]
    return {
        "n": int(has_truth.sum()),
        "n_failed": int((has_truth & ~ok).sum()),
        "rmse": float(np.sqrt(np.mean(resid**2))) if resid.size else float("nan"),
        "pull_mean": _mean(pull),
        "pull_std": float(np.std(pull)) if pull.size else float("nan"),
        "frac_pull_lt_1": _mean((np.abs(pull) < 1.0).astype(np.float64)),
    }


def ism_metrics(
    pred: Mapping[str, np.ndarray], sigma: Mapping[str, np.ndarray], true: Mapping[str, np.ndarray],
) -> list[dict]:
    """``gaussian_metrics`` for each property, one row {"property": name, ...} each.

    pred, sigma, true: dicts property name -> array (N,); rows follow the order of
    ``pred``. Every name in ``pred`` must be in ``sigma`` and ``true`` (KeyError).
    """
    missing = [k for k in pred if k not in sigma or k not in true]
    if missing:
        raise KeyError(f"properties without sigma or truth: {missing}")
    return [{"property": name, **gaussian_metrics(pred[name], sigma[name], true[name])} for name in pred]


def pit(pdf, edges, truth) -> np.ndarray:
    """Probability integral transform: CDF of each binned p at its true value.

    pdf: (N, K) nonnegative probabilities per bin (each row is renormalised to sum
    1). edges: (K+1,) strictly increasing bin edges, in any variable (z, ln(1+z),
    ...), shared by all rows. truth: (N,) true values in the same variable.
    The CDF is linear within the bin holding the truth, 0 below edges[0] and 1
    above edges[-1]. Returns (N,) float64 in [0, 1]; NaN where the truth or a row
    is non-finite or a row sums to 0.
    """
    pdf = np.asarray(pdf, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64).ravel()
    if pdf.ndim != 2 or edges.shape != (pdf.shape[1] + 1,) or truth.shape != (pdf.shape[0],):
        raise ValueError(f"shapes pdf {pdf.shape}, edges {edges.shape}, truth {truth.shape}: "
                         "expected (N, K), (K+1,), (N,)")
    if np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be strictly increasing")
    k = pdf.shape[1]
    cdf_at_edges = np.concatenate([np.zeros((pdf.shape[0], 1)), np.cumsum(pdf, axis=1)], axis=1)
    total = cdf_at_edges[:, -1]
    j = np.clip(np.searchsorted(edges, truth, side="right") - 1, 0, k - 1)
    frac = np.clip((truth - edges[j]) / (edges[j + 1] - edges[j]), 0.0, 1.0)
    rows = np.arange(pdf.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (cdf_at_edges[rows, j] + frac * pdf[rows, j]) / total
    out[~(np.isfinite(total) & (total > 0))] = np.nan
    return out


def pit_histogram(pit_values, n_bins: int = 10) -> np.ndarray:
    """Counts (n_bins,) int of the PIT values in n_bins equal bins of [0, 1].

    NaN values are ignored; PIT = 1 falls in the last bin. A calibrated p(z) gives
    a flat histogram.
    """
    u = np.asarray(pit_values, dtype=np.float64).ravel()
    counts, _ = np.histogram(u[np.isfinite(u)], bins=n_bins, range=(0.0, 1.0))
    return counts


def pit_ks_distance(pit_values) -> float:
    """Kolmogorov-Smirnov distance of the PIT values to the uniform law on [0, 1].

    D = sup |F_n(u) - u| over the empirical CDF F_n of the finite values: 0 for
    perfect uniformity, ~0.87/sqrt(n) typical for n uniform draws. NaN if no values.
    """
    u = np.sort(np.asarray(pit_values, dtype=np.float64).ravel())
    u = u[np.isfinite(u)]
    n = u.size
    if n == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))


def interval_coverage(lo, hi, truth) -> float:
    """Fraction of truths inside their interval, lo <= truth <= hi (closed).

    lo, hi, truth: broadcastable arrays (N,) in one unit. Objects with a non-finite
    truth are dropped; a non-finite bound counts as not covering. ~0.68 for
    calibrated 68 % intervals. NaN when no truth is finite.
    """
    lo, hi, truth = _flat_float(lo, hi, truth)
    keep = np.isfinite(truth)
    covered = (lo[keep] <= truth[keep]) & (truth[keep] <= hi[keep])  # False for NaN bounds
    return _mean(covered.astype(np.float64))


def format_table(rows: Sequence[Mapping], columns: Sequence[str | tuple[str, str]], floatfmt: str = ".4f") -> str:
    """Plain-text table of ``rows`` (dicts), one line per row, columns left to right.

    columns: keys, or (key, format spec) pairs, e.g. ("eta", ".1%") to print a
    fraction as a percentage. Floats use ``floatfmt`` unless given a spec; None and
    missing keys print as "". Returns the table without a trailing newline.
    """
    specs = [(c, None) if isinstance(c, str) else (c[0], c[1]) for c in columns]

    def cell(value, spec):
        if value is None:
            return ""
        if isinstance(value, (float, np.floating)):
            return format(value, spec or floatfmt)
        return format(value, spec) if spec else str(value)

    body = [[cell(row.get(key), spec) for key, spec in specs] for row in rows]
    header = [key for key, _ in specs]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(specs))]
    lines = ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
