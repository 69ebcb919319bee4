"""The rest-frame template basis of the redshift fit, built from the project's own physics.

A small linear basis on the rest grid (same ln-step as the model grid, so a redshift is
a pure shift; ``pipeline.sampling.grid.rest_grid``):

* ``N_CONTINUUM`` continuum components: the leading right-singular vectors (PCA without
  centring, as redrock's galaxy templates) of noiseless rest-frame continua of galaxies
  drawn from the simulator's own default prior (every population; BC03 populations and
  Calzetti dust, the galaxies' own stellar dispersions, nebular continuum:
  ``pipeline.physics.simulate.rest_continuum``), each normalised in a far-UV, a near-UV and an optical band so
  that the basis fits whatever rest range a redshift brings into view;
* per emission-line group (``LINE_GROUPS``), one component per width in ``LINE_SIGMAS_KMS``: Gaussians
  with ratios inside the group from the simulator's MAPPINGS grid
  (``pipeline.physics.nebular``) at a representative point; the groups' amplitudes are
  free and non-negative in the fit, so line ratios between groups are free;
* two interstellar-absorption groups (``ISM_GROUPS``, the simulator's
  ``pipeline.physics.ism_absorption`` lines): troughs whose depths are free and
  non-negative, the redshift features of star-forming galaxies at 1.5 < z < 4.

Built once per process and kept on disk like the other derived arrays
(``pipeline.physics.cache``). Components are unit-norm rows; the fit's coefficients are
in the units of the spectrum it fits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.physics.cache import cache_key, cached_arrays
from pipeline.physics.constants import C_KMS, LOG_C_CMS
from pipeline.physics.instruments import DEIMOS
from pipeline.physics.ism_absorption import ISM_LINES, TYPICAL_OUTFLOW_KMS
from pipeline.physics.nebular import line_ratios, load_line_grid
from pipeline.physics.params import validate
from pipeline.physics.priors import draw
from pipeline.physics.simulate import rest_continuum
from pipeline.sampling.grid import LogGrid, model_grid, rest_grid

#: Continuum components kept from the PCA: with 8, noiseless simulated continua are fitted
#: to ~0.5 % rms (median; a few % for the rarer old populations seen in the far UV).
N_CONTINUUM = 8
#: Galaxies drawn from the default prior for the PCA, and the seed of the draw.
N_DRAWS = 3000
DRAW_SEED = 20261204
#: Rest bands (Å) each drawn continuum is normalised over, one copy per band, before the
#: PCA: a spectrum at z ~ 4 sees only the far UV, where old populations are thousands of
#: times fainter than in the optical; normalising in each band lets the basis fit both.
NORM_BANDS = ((1250.0, 2000.0), (2000.0, 4000.0), (4000.0, 9000.0))
#: Widths of the line templates (one component per group and width, amplitudes free and
#: non-negative, so their sum spans the lines the simulator draws: gas dispersions of
#: 20-200 km/s with LSFs of 20-65 km/s, 30-210 km/s in all). With one 100 km/s width,
#: strong lines of other widths left residuals of hundreds of sigma at high S/N, and the
#: fit preferred a wrong redshift that put Halpha on the [O II] doublet.
LINE_SIGMAS_KMS = (50.0, 160.0)
#: Emission-line groups -> (lines of the MAPPINGS grid, (log U, log P/k, 12+log O/H) of
#: the ratios inside the group). UV lines at low metallicity and high U, where they are
#: seen (Stark et al. 2014); the rest at a typical star-forming point.
LINE_GROUPS = {
    "LYA": (("Lyalpha",), (-3.0, 6.2, 8.5)),
    "UV": (("CIV1548", "CIV1551", "HeII1640", "OIII1661", "OIII1666", "CIII1907", "CIII1909"), (-2.25, 6.2, 7.9)),
    "OII": (("OII3726", "OII3729"), (-3.0, 6.2, 8.5)),
    "BALMER": (("H10", "H9", "H8", "Hepsilon", "Hdelta", "Hgamma", "Hbeta", "Halpha"), (-3.0, 6.2, 8.5)),
    "OIII": (("NeIII3869", "NeIII3967", "OIII4959", "OIII5007"), (-3.0, 6.2, 8.5)),
    "NII_SII": (("NII6548", "NII6583", "SII6716", "SII6731"), (-3.0, 6.2, 8.5)),
}
#: Interstellar absorption groups -> the lines of ``pipeline.physics.ism_absorption`` they
#: hold (far UV, Shapley et al. 2003; Fe II and Mg II): negative Gaussians with the lines'
#: reference EWs, the typical outflow blueshift and width ``ISM_TEMPLATE_SIGMA_KMS``, their
#: depths free (non-negative coefficients) like the emission groups' amplitudes.
ISM_GROUPS = {
    "ISM_FUV": ("SiII1260", "OI1302+SiII1304", "CII1334", "SiIV1393", "SiIV1402", "SiII1526", "CIV1548", "CIV1551"),
    "ISM_NUV": ("FeII2344", "FeII2374", "FeII2383", "FeII2587", "FeII2600", "MgII2796", "MgII2803"),
}
#: Trough width of the ISM templates: the troughs' own 200 km/s with ~100 km/s gas and
#: ~60 km/s LSF, in quadrature.
ISM_TEMPLATE_SIGMA_KMS = 230.0
#: Zero columns on each side of the rest grid, so shift windows near the grid's ends
#: read zeros instead of failing.
PAD = 128
#: Bump when the derivation below changes (invalidates the disk cache).
_DERIVATION_VERSION = 1


@dataclass(frozen=True)
class TemplateBasis:
    """Templates (n_templates, rest.n + 2 PAD) float32 on the padded rest grid.

    Observed pixel j of a source at ln(1+z) = s dln sits at padded column
    ``j + offset - s`` (``offset`` includes PAD). ``names``: component names, the first
    ``n_continuum`` the continuum PCA, the rest the line groups (non-negative in fits).
    """

    flux: np.ndarray
    names: tuple[str, ...]
    n_continuum: int
    offset: int
    dln: float

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def is_line(self) -> np.ndarray:
        """(n_templates,) bool: components whose coefficients are held non-negative (the
    emission-line and interstellar-absorption groups)."""
        return np.arange(self.n) >= self.n_continuum


def _prior_continua(rest: LogGrid) -> np.ndarray:
    """(n, rest.n) float64: rest-frame continua (stars with their dispersion, nebular
    continuum, dust) of ``N_DRAWS`` galaxies from the simulator's default prior (every
    population), each normalised to unit rms over each of ``NORM_BANDS`` in turn (one
    copy per band)."""
    params = validate(draw("default", N_DRAWS, np.random.default_rng(DRAW_SEED), DEIMOS))
    spectra = np.concatenate([rest_continuum({k: v[i:i + 500] for k, v in params.items()})
                              for i in range(0, N_DRAWS, 500)]).astype(np.float64)
    out = []
    for lo, hi in NORM_BANDS:
        band = (rest.wavelength > lo) & (rest.wavelength < hi)
        rms = np.sqrt(np.mean(spectra[:, band] ** 2, axis=1))
        out.append(spectra[rms > 0] / rms[rms > 0, None])
    return np.concatenate(out)


def _continuum_components(rest: LogGrid) -> np.ndarray:
    """(N_CONTINUUM, rest.n): leading right-singular vectors of the drawn continua."""
    x = _prior_continua(rest)
    _, vecs = np.linalg.eigh(x @ x.T)  # n_spectra^2, far smaller than rest.n^2
    comps = vecs[:, ::-1][:, :N_CONTINUUM].T @ x
    # a definite sign: the first component positive where the light is
    return comps * np.sign(comps.sum(axis=1, keepdims=True))


def line_names() -> tuple[str, ...]:
    """Names of the emission-line components: each group at each width, "OII_50", ..."""
    return tuple(f"{group}_{sigma:.0f}" for group in LINE_GROUPS for sigma in LINE_SIGMAS_KMS)


def _line_components(rest: LogGrid) -> np.ndarray:
    """(len(line_names()), rest.n): each group's lines as Gaussians with grid ratios, at
    each width of ``LINE_SIGMAS_KMS``."""
    grid = load_line_grid()
    pix = np.arange(rest.n)
    out = []
    for names, (log_u, log_pk, oh) in LINE_GROUPS.values():
        ratios = line_ratios(grid, [log_u + LOG_C_CMS], [log_pk], [oh])[0]
        for sigma_kms in LINE_SIGMAS_KMS:
            sigma = sigma_kms / C_KMS / rest.dln  # pixels
            row = np.zeros(rest.n)
            for name in names:
                i = grid.index(name)
                row += ratios[i] * np.exp(-0.5 * ((pix - rest.pixel_of(grid.wavelength[i])) / sigma) ** 2)
            out.append(row)
    return np.asarray(out)


def _source_hash() -> str:
    """Hash of the simulator code the basis is drawn from (priors and continua), so a
    changed simulator rebuilds the cached basis."""
    from pipeline.physics import kinematics, nebular_continuum, populations, priors, simulate, stellar

    h = hashlib.sha256()
    for module in (priors, simulate, stellar, kinematics, nebular_continuum, populations):
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


def _deps() -> tuple:
    rest, _ = rest_grid(model_grid())
    return (_DERIVATION_VERSION, rest.lambda0, rest.dln, rest.n, N_CONTINUUM, N_DRAWS, DRAW_SEED, NORM_BANDS,
            LINE_SIGMAS_KMS, repr(LINE_GROUPS), repr(ISM_GROUPS), ISM_TEMPLATE_SIGMA_KMS, PAD, _source_hash())


def _cache_key() -> str:
    return cache_key("fit_basis", _deps())


def _ism_components(rest: LogGrid) -> np.ndarray:
    """(len(ISM_GROUPS), rest.n): each group's troughs as negative Gaussians weighted by
    their reference EWs, blueshifted by the typical outflow."""
    sigma = ISM_TEMPLATE_SIGMA_KMS / C_KMS / rest.dln
    pix = np.arange(rest.n)
    out = np.zeros((len(ISM_GROUPS), rest.n))
    for g, names in enumerate(ISM_GROUPS.values()):
        for name in names:
            wave, ew = ISM_LINES[name]
            centre = rest.pixel_of(wave * (1 + TYPICAL_OUTFLOW_KMS / C_KMS))
            out[g] -= ew * np.exp(-0.5 * ((pix - centre) / sigma) ** 2)
    return out


def _build() -> dict[str, np.ndarray]:
    rest, _ = rest_grid(model_grid())
    comps = np.concatenate([_continuum_components(rest), _line_components(rest), _ism_components(rest)])
    comps /= np.linalg.norm(comps, axis=1, keepdims=True)
    padded = np.zeros((len(comps), rest.n + 2 * PAD), np.float32)
    padded[:, PAD:PAD + rest.n] = comps
    return {"flux": padded}


def basis_id() -> str:
    """Identity of the basis (its derivation's inputs): catalogues record it with COEFF,
    and parts made with another basis are scored again."""
    return f"fit-basis-{_cache_key()[:12]}"


def n_templates() -> int:
    """Components of the basis (the length of a catalogue's COEFF), without building it."""
    return N_CONTINUUM + len(line_names()) + len(ISM_GROUPS)


@lru_cache(maxsize=1)
def load_basis() -> TemplateBasis:
    """The basis on the model grid's rest grid (built once, cached on disk, read-only)."""
    grid = model_grid()
    _, offset = rest_grid(grid)
    flux = cached_arrays("fit_basis", ("flux",), _deps(), _build)["flux"]
    names = tuple(f"PCA{i}" for i in range(N_CONTINUUM)) + line_names() + tuple(ISM_GROUPS)
    return TemplateBasis(flux, names, N_CONTINUUM, offset + PAD, grid.dln)
