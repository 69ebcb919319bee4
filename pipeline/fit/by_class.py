"""Each spectrum fitted with the templates of its class (the network's SPECTYPE).

Galaxies get the galaxy template fit around their p(z) peaks (``refine`` with
``templates.load_basis``), quasars the same fit with the quasar basis
(``quasar_basis``), stars the stellar templates at their radial velocity (``stars``);
sky fibres keep the network's p(z) summaries. A model without a class head calls every
spectrum a galaxy. The merged fit's COEFF holds the galaxy basis's coefficients (NaN on
quasar rows: their basis has other components).
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from pipeline.fit.quasar_basis import load_quasar_basis
from pipeline.fit.refine import Fit, refine_pz
from pipeline.fit.stars import StarFit, fit_stars
from pipeline.fit.templates import load_basis, n_templates
from pipeline.learn.pz import ZBins
from pipeline.physics.spectypes import CODES


def expand(result, rows: np.ndarray, n: int):
    """A per-row dataclass of the rows ``rows`` (bool (n,)) spread over all n rows:
    NaN (floats), 0 (integers), False (booleans) or "" (strings) elsewhere."""
    out = {}
    for f in fields(result):
        part = np.asarray(getattr(result, f.name))
        fill = {"f": np.nan, "b": False, "U": "", "O": ""}.get(part.dtype.kind, 0)
        full = np.full((n,) + part.shape[1:], fill, dtype=part.dtype)
        full[rows] = part
        out[f.name] = full
    return type(result)(**out)


def fit_by_class(flux: np.ndarray, ivar: np.ndarray, prediction: dict, bins: ZBins, refine: bool = True
                 ) -> tuple[Fit | None, StarFit | None]:
    """(galaxy fit over all rows or None, star fit over all rows or None); rows of other
    classes hold the fill values of ``expand``. flux, ivar (B, npix); prediction: the
    network's (``pz`` and, with a class head, ``spectype``)."""
    n = len(flux)
    kind = np.asarray(prediction.get("spectype", np.zeros(n, np.int64)))
    galaxy, qso, star = (kind == CODES[name] for name in ("GALAXY", "QSO", "STAR"))
    fit = None
    if refine and galaxy.all():
        fit = refine_pz(flux, ivar, prediction["pz"], bins)
    elif refine and (galaxy.any() or qso.any()):
        fit = _merged(flux, ivar, prediction["pz"], bins, galaxy, qso)
    stars = expand(fit_stars(flux[star], ivar[star]), star, n) if star.any() else None
    return fit, stars


def _merged(flux, ivar, pz, bins: ZBins, galaxy: np.ndarray, qso: np.ndarray) -> Fit:
    """One Fit over all rows: galaxy rows fitted with the galaxy basis, quasar rows with
    the quasar basis (their COEFF NaN), other rows filled."""
    n = len(flux)
    parts = [(rows, refine_pz(flux[rows], ivar[rows], pz[rows], bins, basis)) for rows, basis in
             ((galaxy, load_basis()), (qso, load_quasar_basis())) if rows.any()]
    out = expand(parts[0][1], parts[0][0], n)
    for rows, part in parts[1:]:
        for f in fields(part):
            if f.name != "coeff":
                getattr(out, f.name)[rows] = getattr(part, f.name)
    if not galaxy.any():
        out.coeff = np.full((n, n_templates()), np.nan, np.float32)
    return out
