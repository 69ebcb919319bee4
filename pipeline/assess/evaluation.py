"""Scoring a catalogue against the truth: the tables of an evaluation report.

Inputs are plain arrays in catalogue order: the catalogue's columns (``Z``, ``Z_LO``,
``Z_HI``, ``SN_MEDIAN``, ``ZWARN``, ISM columns with ``_ERR``) and the truth
(``z`` and the ISM labels of ``pipeline.assess.columns.ISM_COLUMNS``). The metric
definitions (NMAD, eta, bias, pulls, PIT) are those of ``pipeline.assess.metrics``: every
row counts, including flagged ones (a ZWARN is a warning, not an excuse), and a
failed prediction is an outlier.
"""

from __future__ import annotations

import numpy as np

from pipeline.assess import metrics
from pipeline.assess.columns import ISM_COLUMNS
from pipeline.learn.pz import ZBins
from pipeline.physics.spectypes import CODES as SPECTYPE_CODES
from pipeline.physics.spectypes import SPECTYPES

#: Redshift bins of the report (the thesis's split at z = 2.4 is a bin edge).
Z_EDGES = (0.0, 0.5, 1.0, 1.5, 2.4, 3.5, 6.0)
#: Bins of the measured median S/N per pixel (catalogue ``SN_MEDIAN``).
SNR_EDGES = (0.0, 2.0, 5.0, 10.0, 20.0, np.inf)
#: The S/N above which a survey counts a spectrum as usable (the demo's η target).
SNR_USABLE = 5.0
#: Columns of the redshift tables: (key, format).
REDSHIFT_COLUMNS = ("bin", "n", ("nmad", ".5f"), ("eta", ".2%"), ("bias", ".5f"))
ISM_TABLE_COLUMNS = ("property", "n", ("rmse", ".3f"), ("pull_mean", ".3f"), ("pull_std", ".3f"),
                     ("frac_pull_lt_1", ".3f"))


def _bin_labels(edges, name: str) -> list[str]:
    """"0.5 ≤ z < 1" style labels; the last bin of an open range reads "S/N ≥ 20"."""
    return [f"{lo:g} ≤ {name} < {hi:g}" if np.isfinite(hi) else f"{name} ≥ {lo:g}"
            for lo, hi in zip(edges[:-1], edges[1:])]


def redshift_by_z(cat: dict, truth: dict) -> list[dict]:
    """``metrics.binned_redshift_metrics`` in bins of true z (rows of dicts, last "all")."""
    return metrics.binned_redshift_metrics(cat["Z"], truth["z"], truth["z"], Z_EDGES, _bin_labels(Z_EDGES, "z"))


def redshift_by_snr(cat: dict, truth: dict) -> list[dict]:
    """The same in bins of the catalogue's measured ``SN_MEDIAN``."""
    return metrics.binned_redshift_metrics(cat["Z"], truth["z"], cat["SN_MEDIAN"], SNR_EDGES,
                                           _bin_labels(SNR_EDGES, "S/N"))


def headline(cat: dict, truth: dict) -> dict:
    """The figures a summary quotes: NMAD, eta and bias over all rows and over rows with
    S/N >= ``SNR_USABLE``, the clean (ZWARN = 0) share and eta among those rows, 68 %
    interval coverage, and (catalogues with ``Z_NET``) the network's own NMAD and eta."""
    usable = np.asarray(cat["SN_MEDIAN"]) >= SNR_USABLE
    clean = np.asarray(cat["ZWARN"]) == 0
    every = metrics.redshift_metrics(cat["Z"], truth["z"])
    good = metrics.redshift_metrics(np.asarray(cat["Z"])[usable], np.asarray(truth["z"])[usable])
    head = {"n": every["n"], "nmad": every["nmad"], "eta": every["eta"], "bias": every["bias"],
            "n_snr5": good["n"], "nmad_snr5": good["nmad"], "eta_snr5": good["eta"],
            "clean_fraction": float(np.mean(clean)) if len(clean) else float("nan"),
            "eta_clean": metrics.redshift_metrics(np.asarray(cat["Z"])[clean], np.asarray(truth["z"])[clean])["eta"],
            "coverage_68": metrics.interval_coverage(cat["Z_LO"], cat["Z_HI"], truth["z"])}
    if "Z_NET" in cat:  # the network's own redshift, beside the template fit's
        net = metrics.redshift_metrics(cat["Z_NET"], truth["z"])
        head.update({"nmad_net": net["nmad"], "eta_net": net["eta"]})
    return head


def _galaxies(cat: dict, truth: dict) -> tuple[dict, dict]:
    """The rows that are galaxies (all rows for stores simulated without classes)."""
    return _rows_of(cat, truth, lambda kind: kind == SPECTYPE_CODES["GALAXY"])


def ism_table(cat: dict, truth: dict) -> list[dict]:
    """RMSE and pulls of each ISM column the catalogue has (rows named by column), over
    the galaxies."""
    cat, truth = _galaxies(cat, truth)
    names = [c for c, (key, _, _) in ISM_COLUMNS.items() if c in cat and key in truth]
    if not names:
        return []
    return metrics.ism_metrics({c: cat[c] for c in names}, {c: cat[f"{c}_ERR"] for c in names},
                               {c: truth[ISM_COLUMNS[c][0]] for c in names})


def ism_pairs(cat: dict, truth: dict) -> tuple[dict, dict, dict]:
    """(predicted, true, axis labels) by catalogue column, for ``figures.ism_panels``
    (galaxies only)."""
    cat, truth = _galaxies(cat, truth)
    names = [c for c, (key, _, _) in ISM_COLUMNS.items() if c in cat and key in truth]
    return ({c: cat[c] for c in names}, {c: truth[ISM_COLUMNS[c][0]] for c in names},
            {c: ISM_COLUMNS[c][2].split(" (")[0] for c in names})


def pit(pz: np.ndarray, z_true: np.ndarray, bins: ZBins = ZBins()) -> np.ndarray:
    """PIT values (N,) of binned p(z) (N, bins.n) over u = ln(1+z) at the true z (N,)."""
    return metrics.pit(pz, bins.edges, np.log1p(np.asarray(z_true, np.float64)))


def sample_rows(n: int, size: int) -> np.ndarray:
    """``size`` row indices spread evenly over ``n`` rows (all rows if n <= size), sorted."""
    if n <= size:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, size).round().astype(np.int64))


#: Columns of the class table: (key, format).
CLASS_COLUMNS = ("class", "n", ("completeness", ".2%"), ("purity", ".2%"), ("completeness_snr5", ".2%"),
                 ("purity_snr5", ".2%"), ("nmad", ".5f"), ("eta", ".2%"),
                 *(f"as_{name}" for name in SPECTYPES.values()))


def redshift_rows(cat: dict, truth: dict) -> tuple[dict, dict]:
    """(catalogue, truth) without the true sky fibres, which have no redshift to score
    (unchanged for stores simulated without classes)."""
    return _rows_of(cat, truth, lambda kind: kind != SPECTYPE_CODES["SKY"])


def _rows_of(cat: dict, truth: dict, keep) -> tuple[dict, dict]:
    """(catalogue, truth) restricted to the rows where ``keep`` (true spectype codes) holds."""
    kind = truth.get("spectype")
    if kind is None:
        return cat, truth
    rows = keep(np.asarray(kind).astype(np.int64))
    return ({k: np.asarray(v)[rows] for k, v in cat.items()}, {k: np.asarray(v)[rows] for k, v in truth.items()})


def class_table(cat: dict, truth: dict) -> list[dict]:
    """Per true SPECTYPE: rows, completeness and purity of the catalogue's SPECTYPE (all
    rows and S/N >= ``SNR_USABLE``), NMAD and eta of Z (sky fibres: none), and the
    confusion matrix row (``as_<class>``: rows of this class given that SPECTYPE).
    Empty for stores without the class truth or catalogues without SPECTYPE."""
    if "spectype" not in truth or "SPECTYPE" not in cat:
        return []
    true = np.asarray(truth["spectype"]).astype(np.int64)
    names = np.asarray(list(SPECTYPES.values()))
    said = np.asarray(cat["SPECTYPE"]).astype(str)
    usable = np.asarray(cat["SN_MEDIAN"]) >= SNR_USABLE
    out = []
    for code, name in SPECTYPES.items():
        mine, called = true == code, said == name
        row = {"class": name, "n": int(mine.sum()), **_purity(mine, called, ""), **_purity(mine & usable,
                                                                                             called & usable, "_snr5")}
        if name != "SKY" and mine.any():
            scores = metrics.redshift_metrics(np.asarray(cat["Z"])[mine], np.asarray(truth["z"])[mine])
            row.update(nmad=scores["nmad"], eta=scores["eta"])
        row.update({f"as_{other}": int((mine & (said == other)).sum()) for other in names})
        out.append(row)
    return out


def _purity(mine: np.ndarray, called: np.ndarray, suffix: str) -> dict:
    """Completeness (share of the class given its SPECTYPE) and purity (share of rows
    given the SPECTYPE that are of the class); NaN where undefined."""
    hit = np.count_nonzero(mine & called)
    return {f"completeness{suffix}": hit / mine.sum() if mine.any() else float("nan"),
            f"purity{suffix}": hit / called.sum() if called.any() else float("nan")}
