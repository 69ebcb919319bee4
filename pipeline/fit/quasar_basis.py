"""The rest-frame template basis for quasars, from the simulator's own quasar model.

``N_COMPONENTS`` leading right-singular vectors (PCA without centring, as redrock's QSO
templates) of noiseless rest-frame quasars drawn from the simulator
(``pipeline.physics.quasars.rest_quasars``: both PCA sets of real SDSS quasars on the
composite, the Baldwin effect, red quasars; no BAL troughs and no forest, which are
absorption the fit cannot describe with a few smooth components), each normalised over
the rest bands of ``NORM_BANDS`` in turn so the basis fits whatever range a redshift
brings into view. All coefficients are free (no non-negative line groups).

Same layout as the galaxy basis (``pipeline.fit.templates.TemplateBasis``), so the same
fit (``pipeline.fit.refine``) runs with it; built once and kept on disk
(``pipeline.physics.cache``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.fit.templates import PAD, TemplateBasis
from pipeline.physics.cache import cached_arrays
from pipeline.physics.quasars import load_quasar_model, rest_quasars
from pipeline.sampling.grid import model_grid, rest_grid

#: Components kept from the PCA.
N_COMPONENTS = 10
#: Quasars drawn for the PCA, and the seed of the draw.
N_DRAWS = 600
DRAW_SEED = 20261205
#: Rest bands (Å) each drawn quasar is normalised over before the PCA.
NORM_BANDS = ((900.0, 1700.0), (1500.0, 3500.0), (3000.0, 7000.0))
_DERIVATION_VERSION = 1


def _draws() -> np.ndarray:
    """(n, rest.n) float64 rest-frame quasars, normalised per band (one copy per band)."""
    rng = np.random.default_rng(DRAW_SEED)
    z = np.expm1(rng.uniform(np.log1p(0.05), np.log1p(6.0), N_DRAWS))
    table = {"object_key": rng.integers(0, 2**52, N_DRAWS).astype(np.float64), "z": z,
             "lambda_lo": np.full(N_DRAWS, 3600.0), "lambda_hi": np.full(N_DRAWS, 10000.0),
             "qso_dlogl": rng.normal(0.0, 0.4, N_DRAWS), "qso_bal": np.zeros(N_DRAWS),
             "qso_ebv": rng.exponential(0.05, N_DRAWS)}
    spectra = np.concatenate([rest_quasars({k: v[i:i + 500] for k, v in table.items()})
                              for i in range(0, N_DRAWS, 500)]).astype(np.float64)
    wavelength = load_quasar_model().rest.wavelength
    out = []
    for lo, hi in NORM_BANDS:
        band = (wavelength > lo) & (wavelength < hi)
        out.append(spectra / np.sqrt(np.mean(spectra[:, band] ** 2, axis=1))[:, None])
    return np.concatenate(out)


def _build() -> dict[str, np.ndarray]:
    rest, _ = rest_grid(model_grid())
    x = _draws()
    _, vecs = np.linalg.eigh(x @ x.T)
    comps = vecs[:, ::-1][:, :N_COMPONENTS].T @ x
    comps *= np.sign(comps.sum(axis=1, keepdims=True))
    comps /= np.linalg.norm(comps, axis=1, keepdims=True)
    padded = np.zeros((N_COMPONENTS, rest.n + 2 * PAD), np.float32)
    padded[:, PAD:PAD + rest.n] = comps
    return {"flux": padded}


def _deps() -> tuple:
    from pipeline.physics import quasars

    rest, _ = rest_grid(model_grid())
    source = hashlib.sha256(Path(quasars.__file__).read_bytes()).hexdigest()[:16]
    return (_DERIVATION_VERSION, rest.lambda0, rest.dln, rest.n, N_COMPONENTS, N_DRAWS, DRAW_SEED, NORM_BANDS, PAD,
            source)


@lru_cache(maxsize=1)
def load_quasar_basis() -> TemplateBasis:
    """The quasar basis on the model grid's rest grid (built once, cached on disk)."""
    grid = model_grid()
    _, offset = rest_grid(grid)
    flux = cached_arrays("quasar_basis", ("flux",), _deps(), _build)["flux"]
    names = tuple(f"QSO_PCA{i}" for i in range(N_COMPONENTS))
    return TemplateBasis(flux, names, N_COMPONENTS, offset + PAD, grid.dln)
