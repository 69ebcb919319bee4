"""One entry point for synthetic spectra: parameter table in, spectra out.

    spectra = simulate(params, SimulationConfig(instrument=DEIMOS), seed=1)

Rest-frame ingredients are precomputed once per process on a rest grid with the
model grid's ln-step, so that redshifting a batch is a gather of shifted windows
(thesis §2.2 steps 1-5, in a different order for speed):

1. stellar continuum: young (constant SFR) + old (burst) BC03 templates, broadened
   by the stellar velocity dispersion and the LSF (minus the library's own
   resolution), mixed from pre-broadened libraries                      (stellar.py, kinematics.py)
2. Calzetti dust on the continuum with E(B-V)_star = 0.44 E(B-V)_gas     (dust.py)
   plus the nebular continuum (per unit Hbeta), with E(B-V)_gas          (nebular_continuum.py)
3. shift to the observed frame, divide by 4 pi D_L^2 (1+z)               (cosmology.py)
   and multiply by the interstellar UV absorption troughs                (ism_absorption.py)
4. nebular lines from the MAPPINGS grid, Halpha-SFR calibrated, dusted,
   Gaussian in ln(lambda) with the gas dispersion and the LSF             (nebular.py)
5. Inoue et al. (2014) IGM transmission                                  (igm.py)
6. instrument coverage and noise                                         (instruments.py, noise.py)
7. observing: native pixels, artifacts, noise, honest ivar, ingest        (observing.py, artifacts.py)

Flux density is in 1e-17 erg s^-1 cm^-2 Å^-1 on vacuum wavelengths; pixels outside
a spectrum's coverage have flux = 0 and ivar = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.physics import artifacts as art
from pipeline.physics import constants as K
from pipeline.physics.cosmology import luminosity_distance_cm
from pipeline.physics.dust import calzetti_k
from pipeline.physics.igm import LYA_REST, apply_igm_transmission, igm_transmission
from pipeline.physics.instruments import DEIMOS, Instrument
from pipeline.physics.ism_absorption import (
    F_YOUNG_WAVELENGTH,
    ISM_SIGMA_KMS,
    apply_ism_absorption,
    rest_equivalent_widths,
)
from pipeline.physics.kinematics import node_weights, total_sigma_kms
from pipeline.physics.nebular import line_ratios, load_line_grid
from pipeline.physics.nebular_continuum import load_nebular_continuum
from pipeline.physics.noise import NOISE_MODES, NoiseModel, physical_noise, sample_covered, thesis_noise
from pipeline.physics.observing import ObservingPath, observe, observing_path
from pipeline.physics.params import ParameterTable, validate
from pipeline.physics.populations import uses_grid
from pipeline.physics.quasars import forest_transmission, rest_quasars
from pipeline.physics.sky import sky_on_grid
from pipeline.physics.spectypes import CODES as SPECTYPE_CODES
from pipeline.physics.spectypes import spectype_of
from pipeline.physics.stars import render_stars
from pipeline.physics.stellar import (
    LOG_OLD_AGE_NODES,
    LOG_YOUNG_AGE_NODES,
    LOG_Z_NODES,
    BroadenedLibrary,
    StellarLibrary,
    load_broadened_library,
)
from pipeline.sampling.grid import LogGrid, covered_mask, model_grid, rest_grid

_LN10_04 = 0.4 * np.log(10.0)
#: Lines are rendered over +-LINE_HALF_WIDTH_SIGMA Gaussian sigmas.
LINE_HALF_WIDTH_SIGMA = 5.0


@dataclass(frozen=True)
class SimulationConfig:
    """How a batch is rendered (per batch); the parameter table varies per spectrum.

    noise: "physical" (sky + object photons at the table's S/N), "thesis" (20 % of
        the flux standard deviation) or "none" (noiseless flux, physical ivar).
    igm: apply Inoue et al. (2014) IGM absorption (the thesis did not).
    rest_min: rest-frame flux below this wavelength (Å) is set to zero (the thesis
        clipped at 1200 Å, the blue end of the Calzetti law); 0 keeps everything.
    nebular_continuum: add the nebular continuum (the thesis did not).
    artifacts: instrumental artifacts per spectrum (``artifacts.py``: masks, cosmic rays,
        gaps, sky and telluric residuals, flux-calibration errors), from each spectrum's
        ``artifact_key`` column (drawn from the seed when the table lacks it).
    native: observe on the instrument's native pixels and resample onto the model grid
        as ingest does (correlated noise, ``observing.py``); else on the model grid.
    """

    instrument: Instrument = DEIMOS
    noise: str = "physical"
    igm: bool = True
    rest_min: float = 0.0
    nebular_continuum: bool = True
    artifacts: bool = False
    native: bool = False

    def __post_init__(self):
        if self.noise not in NOISE_MODES:
            raise ValueError(f"noise mode {self.noise!r} unknown; choose one of {NOISE_MODES}")


@dataclass
class Spectra:
    """A batch of spectra on the common model grid.

    wavelength: (npix,) vacuum Å; flux, model_flux, ivar: (B, npix) float32 in
    1e-17 erg/s/cm2/Å (ivar in its inverse square); labels: the validated
    parameter table plus ``noise_scale`` (the per-spectrum noise amplitude a).
    """

    wavelength: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    model_flux: np.ndarray
    labels: ParameterTable = field(default_factory=dict)

    def __len__(self) -> int:
        return self.flux.shape[0]


class _Renderer:
    """Per-process cache of everything a batch needs that does not depend on it."""

    def __init__(self, grid: LogGrid, instrument: Instrument):
        self.grid = grid
        self.instrument = instrument
        self.rest, self.offset = rest_grid(grid)
        self.library: BroadenedLibrary = load_broadened_library(self.rest)
        self.nebular = load_nebular_continuum(self.rest)
        self.i_1500 = int(np.searchsorted(self.rest.wavelength, F_YOUNG_WAVELENGTH))
        self.lines = load_line_grid()
        self.width = np.diff(grid.edges).astype(np.float32)
        self.ln_line = np.log(self.lines.wavelength)
        self.k_line = calzetti_k(self.lines.wavelength)
        self.i_halpha = self.lines.index("Halpha")
        self.i_lya = self.lines.index("Lyalpha")

    @cached_property
    def windows(self):
        """Sliding views (read-only, no copy) of length npix+1 over the rest grid:
        young, old (broadened libraries), nebular continuum, Calzetti k, rest wavelength."""
        n = self.grid.n + 1
        k_rest = calzetti_k(self.rest.wavelength).astype(np.float32)
        return (
            sliding_window_view(self.library.young, n, axis=-1),
            sliding_window_view(self.library.old, n, axis=-1),
            sliding_window_view(self.nebular.per_hbeta, n, axis=-1),
            sliding_window_view(k_rest, n),
            sliding_window_view(self.rest.wavelength.astype(np.float32), n),
        )


@lru_cache(maxsize=4)
def _renderer(instrument: Instrument) -> _Renderer:
    return _Renderer(model_grid(), instrument)


def _rest_start(r: _Renderer, z):
    """Integer and fractional rest index of observed pixel 0, each (B,)."""
    start = r.offset - np.log1p(z) / r.grid.dln
    i0 = np.floor(start).astype(np.int64)
    return i0, (start - i0).astype(np.float32)


def _flux_scale(z) -> np.ndarray:
    """L_sun/Å (rest) -> 1e-17 erg/s/cm2/Å (observed): L_sun / (4 pi D_L^2 (1+z)) / 1e-17."""
    dl = luminosity_distance_cm(z)
    return K.L_SUN_ERG_S / (4 * np.pi * dl**2 * (1 + z)) / K.FLUX_UNIT_CGS


def continuum(p: ParameterTable, config: SimulationConfig) -> np.ndarray:
    """Continuum in the observed frame, (B, npix) float32 (no IGM, no emission lines).

    Stars: young + old templates broadened to sigma_tot = hypot(sigma_star, sigma_LSF)
    (two pre-broadened libraries mixed linearly in sigma^2, see kinematics.py), dusted
    with E(B-V)_star. Nebular continuum (``config.nebular_continuum``): R(lambda) L(Hbeta),
    dusted with the nebular E(B-V). Then the interstellar absorption troughs
    (ism_absorption.py), which multiply stars and nebular continuum alike.
    """
    r = _renderer(config.instrument)
    young, old, neb, k_rest, lam_rest = r.windows
    i0, frac = _rest_start(r, p["z"])
    w = _rest_frame_continuum(r, p, config, (young, old, neb, k_rest), i0)
    if config.rest_min > 0:
        w[lam_rest[i0] < config.rest_min] = 0.0
    out = w[:, :-1] * (1 - frac)[:, None]
    out += w[:, 1:] * frac[:, None]
    out *= _flux_scale(p["z"]).astype(np.float32)[:, None]
    ew = rest_equivalent_widths(p["ism_ew_scale"], _young_fraction_1500(r, p, *_library_indices(p)))
    sigma_ism = np.sqrt(ISM_SIGMA_KMS**2 + p["sigma_v"] ** 2 + config.instrument.lsf_sigma_kms**2)
    apply_ism_absorption(out, r.grid, p["z"], ew, p["v_ism"], sigma_ism)
    return out


def _library_indices(p: ParameterTable):
    """(young age, old age, metallicity) node indices of each row, each (B,)."""
    z_star = p["metallicity"] - K.SOLAR_OH
    iz = StellarLibrary.nearest(LOG_Z_NODES, np.clip(z_star, LOG_Z_NODES[0], LOG_Z_NODES[-1]))
    iy = StellarLibrary.nearest(LOG_YOUNG_AGE_NODES, np.log10(p["age_myr"]) + 6)
    io = StellarLibrary.nearest(LOG_OLD_AGE_NODES, np.log10(p["age_old_gyr"]) + 9)
    return iy, io, iz


def _rest_frame_continuum(r: _Renderer, p: ParameterTable, config: SimulationConfig, views, index) -> np.ndarray:
    """Stars (broadened, dusted) plus nebular continuum, L_sun/Å on rest columns, (B, n).

    views: (young, old, nebular per Hbeta, Calzetti k) arrays with a window axis just
    before the wavelength axis (``_Renderer.windows``, or one window of the whole rest
    grid); index (B,): each row's window.
    """
    young, old, neb, k_rest = views
    z_star = p["metallicity"] - K.SOLAR_OH
    iy, io, iz = _library_indices(p)
    sfr = (10.0 ** p["log_sfr"]).astype(np.float32)
    mass = (10.0 ** p["log_mass_old"]).astype(np.float32)
    node, upper = node_weights(total_sigma_kms(p["sigma_star"], config.instrument.lsf_sigma_kms))
    lower = 1 - upper
    w = young[node, iy, iz, index]
    w *= (sfr * lower)[:, None]
    for rows, scale in ((young[node + 1, iy, iz, index], sfr * upper), (old[node, io, iz, index], mass * lower),
                        (old[node + 1, io, iz, index], mass * upper)):
        rows *= scale[:, None]  # in place: the gathers are fresh copies
        w += rows
    k = k_rest[index]
    dust = np.multiply(k, -(K.STELLAR_TO_NEBULAR_EBV * _LN10_04 * p["ebv"]).astype(np.float32)[:, None])
    w *= np.exp(dust, out=dust)
    if config.nebular_continuum:
        iu, izn = r.nebular.indices(p["log_q"] - K.LOG_C_CMS, z_star)
        nebular = neb[iu, izn, index]
        nebular *= _hbeta_luminosity_lsun(r, p).astype(np.float32)[:, None]
        k *= -(_LN10_04 * p["ebv"]).astype(np.float32)[:, None]
        nebular *= np.exp(k, out=k)
        w += nebular
    return w


def rest_continuum(p: ParameterTable, config: SimulationConfig = SimulationConfig()) -> np.ndarray:
    """The continuum of ``continuum`` in the rest frame, before the interstellar troughs:
    L_sun/Å on the rest grid (``pipeline.sampling.grid.rest_grid``), (B, rest.n) float32
    (used to build fitting templates)."""
    r = _renderer(config.instrument)
    views = (r.library.young[..., None, :], r.library.old[..., None, :], r.nebular.per_hbeta[..., None, :],
             calzetti_k(r.rest.wavelength).astype(np.float32)[None, :])
    return _rest_frame_continuum(r, p, config, views, np.zeros(len(p["z"]), np.int64))


def _hbeta_luminosity_lsun(r: _Renderer, p: ParameterTable) -> np.ndarray:
    """Intrinsic L(Hbeta), L_sun, (B,): L(Halpha) = SFR / C over the grid's Halpha/Hbeta."""
    ratios = line_ratios(r.lines, p["log_q"], p["log_pk"], p["metallicity"])
    l_halpha = 10.0 ** p["log_sfr"] / K.SFR_HALPHA_CALIBRATION
    return l_halpha / ratios[:, r.i_halpha] / K.L_SUN_ERG_S


def _young_fraction_1500(r: _Renderer, p: ParameterTable, iy, io, iz) -> np.ndarray:
    """The young population's share of the dust-free 1500 Å stellar continuum, (B,)."""
    young = r.library.young[0, iy, iz, r.i_1500] * 10.0 ** p["log_sfr"]
    old = r.library.old[0, io, iz, r.i_1500] * 10.0 ** p["log_mass_old"]
    total = young + old
    return np.divide(young, total, out=np.zeros_like(total), where=total > 0)


def line_fluxes(p: ParameterTable, config: SimulationConfig) -> np.ndarray:
    """Integrated observed line fluxes, 1e-17 erg/s/cm2, shape (B, n_lines), dust applied.

    L(Halpha) = SFR / C (Calzetti 2013, thesis Table 1); other lines scale by the
    grid's ratios to Halpha; Lyman-alpha is multiplied by its escape fraction.
    Rows of a LIER population (``populations.LINE_GRID``) take their ratios from the
    NLR grid instead of the HII grid (same lines); there log_sfr is the Halpha-calibrated
    value an observer would infer, not star formation.
    """
    r = _renderer(config.instrument)
    ratios = line_ratios(r.lines, p["log_q"], p["log_pk"], p["metallicity"])
    nlr = uses_grid(p, "NLR")
    if nlr.any():
        ratios[nlr] = line_ratios(load_line_grid("NLR"), p["log_q"][nlr], p["log_pk"][nlr], p["metallicity"][nlr])
    l_halpha = 10.0 ** p["log_sfr"] / K.SFR_HALPHA_CALIBRATION
    lum = l_halpha[:, None] * ratios / ratios[:, r.i_halpha : r.i_halpha + 1]
    lum[:, r.i_lya] *= p["lya_fesc"]
    lum *= 10.0 ** (-0.4 * r.k_line[None, :] * p["ebv"][:, None])
    if config.rest_min > 0:
        lum[:, r.lines.wavelength < config.rest_min] = 0.0
    dl = luminosity_distance_cm(p["z"])
    return lum / (4 * np.pi * dl[:, None] ** 2) / K.FLUX_UNIT_CGS


def render_lines(p: ParameterTable, config: SimulationConfig, out: np.ndarray, lo, hi) -> None:
    """Add the emission lines to ``out`` (B, npix) in place.

    Each line is a Gaussian in ln(lambda) (gas dispersion and LSF in quadrature),
    sampled at pixel centres: with sigma >= 1.4 pixels this conserves the line flux
    to < 1e-6. Only lines within the covered pixels lo..hi (B,) are drawn.
    """
    r = _renderer(config.instrument)
    flux = line_fluxes(p, config)
    centre = (r.ln_line[None, :] + np.log1p(p["z"])[:, None] - np.log(r.grid.lambda0)) / r.grid.dln
    sigma_kms = np.hypot(p["sigma_v"], config.instrument.lsf_sigma_kms)
    sigma = sigma_kms / K.C_KMS / r.grid.dln
    half = int(np.ceil(LINE_HALF_WIDTH_SIGMA * sigma.max()))
    inside = (centre > lo[:, None] - half) & (centre < hi[:, None] + half) & (flux > 0)
    b, line = np.nonzero(inside)
    c, s = centre[b, line], sigma[b]
    pix = np.floor(c).astype(np.int64)[:, None] + np.arange(-half, half + 1)
    x = (pix - c[:, None]) / s[:, None]
    value = np.exp(-0.5 * x * x) * (flux[b, line] / (np.sqrt(2 * np.pi) * s))[:, None]
    ok = (pix >= 0) & (pix < r.grid.n)
    pix = np.where(ok, pix, 0)
    value = np.where(ok, value / r.width[pix], 0.0)
    flat = out.reshape(-1)
    np.add.at(flat, (b[:, None] * r.grid.n + pix).ravel(), value.ravel().astype(np.float32))


def coverage(p: ParameterTable, config: SimulationConfig):
    """First and last covered pixel (B,) and the covered mask (B, npix)."""
    r = _renderer(config.instrument)
    inst_lo, inst_hi = config.instrument.lambda_range
    lo = np.ceil(r.grid.pixel_of(np.maximum(p["lambda_lo"], inst_lo)) - 1e-9).astype(np.int64)
    hi = np.floor(r.grid.pixel_of(np.minimum(p["lambda_hi"], inst_hi)) + 1e-9).astype(np.int64)
    lo, hi = np.clip(lo, 0, r.grid.n - 1), np.clip(hi, 0, r.grid.n - 1)
    return lo, hi, covered_mask(lo, hi, r.grid.n)


def model_spectra(p: ParameterTable, config: SimulationConfig, lo, hi) -> np.ndarray:
    """Noiseless observed flux (B, npix) float32 of every row's class (``spectypes.py``):
    galaxies, quasars with their hosts, stars; sky rows stay 0."""
    kind = spectype_of(p)
    if (kind == SPECTYPE_CODES["GALAXY"]).all():
        return galaxy_spectra(p, config, lo, hi)
    out = np.zeros((len(kind), _renderer(config.instrument).grid.n), np.float32)
    light = np.isin(kind, [SPECTYPE_CODES["GALAXY"], SPECTYPE_CODES["QSO"]])
    if light.any():
        out[light] = galaxy_spectra(_rows(p, light), config, lo[light], hi[light])
    qso = kind == SPECTYPE_CODES["QSO"]
    if qso.any():
        out[qso] = quasar_spectra(_rows(p, qso), config, out[qso], lo[qso], hi[qso])
    star = kind == SPECTYPE_CODES["STAR"]
    if star.any():
        out[star] = render_stars(p["star_template"][star], p["star_mix"][star], p["z"][star] * K.C_KMS,
                                 p["ebv_mw"][star], np.ones(int(star.sum())))
    return out


def _rows(p: ParameterTable, rows) -> ParameterTable:
    return {k: v[rows] for k, v in p.items()}


def galaxy_spectra(p: ParameterTable, config: SimulationConfig, lo, hi) -> np.ndarray:
    """Noiseless galaxy flux (B, npix) float32: continuum + the lines inside the
    covered pixels lo..hi (B,), then the IGM."""
    out = continuum(p, config)
    render_lines(p, config, out, lo, hi)
    if config.igm:
        apply_igm_transmission(out, _renderer(config.instrument).grid.wavelength, p["z"])
    return out


def quasar_spectra(p: ParameterTable, config: SimulationConfig, host: np.ndarray, lo, hi) -> np.ndarray:
    """Quasars (``quasars.py``) in the observed frame with the mean IGM and their own
    forest and DLAs, plus ``host`` (B, npix), the galaxy of the same rows: each is
    scaled to unit median over the covered pixels lo..hi, then mixed by ``host_fraction``."""
    r = _renderer(config.instrument)
    rest = rest_quasars(p)
    i0, frac = _rest_start(r, p["z"])
    index = i0[:, None] + np.arange(r.grid.n + 1)[None, :]
    shifted = np.take_along_axis(rest, index, axis=1)
    out = shifted[:, :-1] * (1 - frac)[:, None] + shifted[:, 1:] * frac[:, None]
    if config.igm:
        mean = igm_transmission(r.grid.wavelength, p["z"])
        out *= mean * forest_transmission(p["object_key"], p["z"], mean, r.grid.wavelength)
    f = p["host_fraction"].astype(np.float32)[:, None]
    out = out / _covered_median(out, lo, hi)[:, None] * (1 - f)
    out += host / _covered_median(host, lo, hi)[:, None] * f
    return out.astype(np.float32)


def _covered_median(flux: np.ndarray, lo, hi) -> np.ndarray:
    """(B,) median flux over evenly spaced covered pixels (1 where it is not positive)."""
    m = np.median(np.take_along_axis(flux, sample_covered(lo, hi), axis=1), axis=1)
    return np.where(m > 0, m, 1.0).astype(np.float32)


@dataclass
class Rendered:
    """A noiseless batch and its noise model: what a training store keeps.

    model: (B, npix) float32 flux, 0 outside coverage; lo, hi: first and last
    covered pixel (B,) int64; noise: the per-pixel noise model; labels: the
    validated parameter table plus ``noise_scale`` (and the artifact labels,
    ``artifacts.LABELS``, when drawn); path: how it is observed; artifacts: its
    artifacts (None: none).
    """

    wavelength: np.ndarray
    model: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    noise: NoiseModel
    labels: ParameterTable
    path: ObservingPath | None = None
    artifacts: art.Artifacts | None = None

    @property
    def covered(self) -> np.ndarray:
        return covered_mask(self.lo, self.hi, self.model.shape[1])


def render(params, config: SimulationConfig = SimulationConfig()) -> Rendered:
    """Noiseless spectra and their noise model; no random numbers are drawn (artifacts
    follow from the table's ``artifact_key`` column, required when ``config.artifacts``)."""
    p = validate(params)
    r = _renderer(config.instrument)
    lo, hi, covered = coverage(p, config)
    model = model_spectra(p, config, lo, hi)
    model *= covered
    noise = _noise_model(r, p, config, model, lo, hi, covered)
    labels = {**p, "noise_scale": noise.scale.astype(np.float64)}
    path = observing_path(config.instrument, config.native)
    drawn = None
    if config.artifacts:
        if "artifact_key" not in p:
            raise ValueError("config.artifacts needs an 'artifact_key' column (artifacts.draw_keys)")
        drawn = art.draw(p["artifact_key"], config.instrument)
        placed = art.place(drawn, path.wavelength, *path.coverage(lo, hi), config.instrument)
        labels.update(art.labels(drawn, placed))
    return Rendered(r.grid.wavelength, model, lo, hi, noise, labels, path, drawn)


def label_names(params: ParameterTable, config: SimulationConfig) -> list[str]:
    """The label columns ``render`` returns besides ``noise_scale``: the table's columns,
    then the artifact labels when ``config.artifacts``."""
    names = list(params)
    return names + [name for name in art.LABELS if name not in names] if config.artifacts else names


def render_batches(params: ParameterTable, config: SimulationConfig, batch: int = 1024):
    """Yield (rows slice, Rendered) over ``params`` in batches of ``batch`` rows.

    Rendering is per-spectrum deterministic, so the batch size changes speed and
    memory only (~1,000 rows is fastest here: the working set stays in cache).
    """
    n = len(next(iter(params.values())))
    for start in range(0, n, batch):
        rows = slice(start, min(start + batch, n))
        yield rows, render({k: v[rows] for k, v in params.items()}, config)


def noise_terms(config: SimulationConfig) -> tuple[np.ndarray, np.ndarray]:
    """The per-pixel (sky, object) terms of ``NoiseModel`` for a config, (npix,) float32."""
    if config.noise == "thesis":
        n = model_grid().n
        return np.ones(n, np.float32), np.zeros(n, np.float32)
    return _noise_shape(config.instrument)


@lru_cache(maxsize=4)
def _noise_shape(instrument: Instrument) -> tuple[np.ndarray, np.ndarray]:
    """(sky / T, 1 / T) on the model grid; (1, 0) where the instrument has no
    throughput (never covered, so never used)."""
    grid = model_grid()
    t = instrument.throughput(grid.wavelength)
    inv_t = np.divide(1.0, t, out=np.zeros_like(t), where=t > 0)
    sky_over_t = np.where(t > 0, sky_on_grid(grid) * inv_t, 1.0)
    return sky_over_t.astype(np.float32), inv_t.astype(np.float32)


def simulate(params, config: SimulationConfig = SimulationConfig(), seed=0) -> Spectra:
    """Render a parameter table into spectra with noise; deterministic for a given seed.

    params: mapping of column -> (B,) array (see ``params.COLUMNS``); seed: anything
    ``np.random.default_rng`` accepts (an int, or e.g. [seed, chunk] for chunked runs).
    Raises ValueError naming the parameter for anything outside the model grids.
    """
    if config.artifacts and "artifact_key" not in params:
        n = len(np.atleast_1d(next(iter(params.values()))))
        stream = np.random.SeedSequence(0 if seed is None else seed).spawn(1)[0]
        params = {**params, "artifact_key": art.draw_keys(np.random.default_rng(stream), n)}
    out = render(params, config)
    flux, ivar = observe(out.model, out.noise, out.covered, seed if config.noise != "none" else None,
                         out.artifacts, out.path)
    return Spectra(out.wavelength, flux, ivar, out.model, out.labels)


def _noise_model(r: _Renderer, p, config, model, lo, hi, covered) -> NoiseModel:
    if config.noise == "thesis":
        return thesis_noise(model, covered)
    sky_over_t, inv_t = _noise_shape(config.instrument)
    lo_red = _first_pixel_redward_of_lya(r, p["z"], lo, hi)
    return physical_noise(model, sky_over_t, inv_t, lo_red, hi, p["snr"], config.instrument.object_noise)


def _first_pixel_redward_of_lya(r: _Renderer, z, lo, hi) -> np.ndarray:
    """First covered pixel redward of Lyman-alpha (lo itself if fewer than 16 remain)."""
    lya = np.ceil(r.grid.pixel_of(LYA_REST * (1 + z))).astype(np.int64)
    first = np.maximum(lo, lya)
    return np.where(first > hi - 16, lo, first)


#: Named presets: prior name and rendering options. ``thesis`` reproduces the thesis's
#: synthetic set like for like (its Table 3 grid, 20 % noise, no IGM, rest flux clipped
#: below 1200 Å, no artifacts, model-grid pixels); ``default`` is the galaxies a survey meets
#: (artifacts, native pixels resampled as ingest does); ``survey`` adds quasars, stars and
#: sky fibres in survey proportions (``spectypes.py``).
PRESETS = {
    "default": ("default", {"noise": "physical", "igm": True, "rest_min": 0.0, "artifacts": True, "native": True}),
    "survey": ("survey", {"noise": "physical", "igm": True, "rest_min": 0.0, "artifacts": True, "native": True}),
    "thesis": ("thesis", {"noise": "thesis", "igm": False, "rest_min": 1200.0, "nebular_continuum": False,
                          "artifacts": False, "native": False}),
}


def preset_config(preset: str, instrument: Instrument = DEIMOS) -> tuple[str, SimulationConfig]:
    """(prior name, SimulationConfig) of a named preset."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    prior, options = PRESETS[preset]
    return prior, SimulationConfig(instrument=instrument, **options)


def chunk_params(chunk: int, size: int, seed: int, preset: str = "default", instrument: Instrument = DEIMOS):
    """(parameter table, SimulationConfig) of chunk ``chunk`` (``size`` rows) of a
    seeded run: parameters come from the stream SeedSequence([seed, chunk, 0]), the
    artifact keys (when the preset draws artifacts) from SeedSequence([seed, chunk, 2])."""
    from pipeline.physics.priors import draw

    prior, config = preset_config(preset, instrument)
    params = draw(prior, size, np.random.default_rng([seed, chunk, 0]), instrument)
    if config.artifacts:
        params["artifact_key"] = art.draw_keys(np.random.default_rng([seed, chunk, 2]), size)
    return params, config


def noise_seed(seed: int, chunk: int) -> list[int]:
    """The noise stream of chunk ``chunk`` of a seeded run."""
    return [seed, chunk, 1]


def simulate_chunk(
    chunk: int, size: int, seed: int, preset: str = "default", instrument: Instrument = DEIMOS
) -> Spectra:
    """Spectra of chunk ``chunk`` (``size`` rows) of a seeded run.

    Deterministic per (seed, chunk): parameters come from ``chunk_params`` and noise
    from ``noise_seed``, so a chunk is the same whichever worker makes it and in
    whatever order.
    """
    params, config = chunk_params(chunk, size, seed, preset, instrument)
    return simulate(params, config, seed=noise_seed(seed, chunk))

