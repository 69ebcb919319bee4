"""Real spectra as the judge: a model's redshifts against published ones, per spectrum.

Pure functions on arrays: ``rows`` compares each catalogue redshift ``Z`` with the
published redshift of the same spectrum (survey pipelines: SDSS spectro1d, DESI
redrock; LEGA-C's catalogue), ``markdown`` makes the table an evaluation report
includes. Which spectra, and their published redshifts, is ``storage.real_spectra``.
"""

from __future__ import annotations

import numpy as np

from pipeline.assess.report import markdown_table
from pipeline.assess.zwarning import describe

#: |Δz|/(1+z) within which a redshift counts as right here: 3e-4, i.e. 90 km/s, about
#: three model-grid pixels (32.7 km/s each) and within DESI's galaxy redshift-precision
#: requirement of 100 km/s (DESI Collaboration 2016, arXiv:1611.00036, the science
#: requirements); a catastrophic failure there is 1000 km/s.
TOLERANCE = 3e-4

#: The table's columns: (key, format spec) as ``report.markdown_table`` takes them.
COLUMNS = (("id", None), ("survey", None), ("z_published", ".5f"), ("Z", ".5f"), ("dz_1pz", "+.2e"),
           ("ZWARN", None), ("bits", None), ("verdict", None), ("z_in_training_range", None))


def verdict(dz_1pz: float, zwarn: int, tolerance: float = TOLERANCE) -> str:
    """"ok" within ``tolerance``; otherwise "flagged" if ZWARN warns, else "missed"."""
    if np.isfinite(dz_1pz) and abs(dz_1pz) <= tolerance:
        return "ok"
    return "flagged" if zwarn else "missed"


def rows(ids, surveys, z_published, z, zwarn, z_range, tolerance: float = TOLERANCE) -> list[dict]:
    """One dict per spectrum (arrays (N,) in the same order): id, survey, z_published, Z,
    dz_1pz = (Z - z_published) / (1 + z_published), ZWARN (int) and its bit names,
    verdict (see ``verdict``) and whether z_published lies in the model's trained
    ``z_range`` (min, max)."""
    z_published = np.asarray(z_published, np.float64)
    z = np.asarray(z, np.float64)
    dz = (z - z_published) / (1.0 + z_published)
    out = []
    for i, name in enumerate(ids):
        bits = int(zwarn[i])
        out.append({"id": str(name), "survey": str(surveys[i]), "z_published": float(z_published[i]),
                    "Z": float(z[i]), "dz_1pz": float(dz[i]), "ZWARN": bits, "bits": ",".join(describe(bits)) or "-",
                    "verdict": verdict(dz[i], bits, tolerance),
                    "z_in_training_range": "yes" if z_range[0] <= z_published[i] <= z_range[1] else "no"})
    return out


def summary(table: list[dict]) -> str:
    """One line: how many are within the tolerance, flagged, missed."""
    counts = {v: sum(r["verdict"] == v for r in table) for v in ("ok", "flagged", "missed")}
    return (f"{len(table)} real spectra: {counts['ok']} within |Δz|/(1+z) ≤ {TOLERANCE:g}, "
            f"{counts['flagged']} off but flagged (ZWARN ≠ 0), {counts['missed']} off and unflagged")


def markdown(table: list[dict]) -> str:
    """The table as Markdown, with its summary line under it."""
    return markdown_table(table, COLUMNS) + "\n\n" + summary(table)
