"""Refine the network's redshift peaks with a χ² template fit at full model-grid resolution.

The network is the global search; this is the estimator. For every spectrum and each
of its top-K p(z) peaks, the template basis (``pipeline.fit.templates``) is fitted by
linear least squares with the spectrum's ivar over a window of integer pixel shifts (on
the log-λ grid a redshift is a pure shift of ln(1+z) / dln pixels):

1. every peak: a coarse scan on ``COARSE_FACTOR``-pixel bins (sums of ivar x flux and of
   ivar, templates averaged over the same bins) over +-``COARSE_HALF`` bins;
2. the ``FINE_PEAKS`` best peaks by coarse score: a fine scan at full resolution (32.7
   km/s pixels) over +-``FINE_HALF`` pixels around each coarse minimum; a parabola
   through the three lowest points gives the sub-pixel shift and, from its curvature
   (Δχ² = 1), ZERR.

Each peak's data are moved to the rest frame once (one row of npix values), so that all
shifts' projections are one matrix product with pre-shifted templates, and all shifts'
normal matrices one product of the ivar (summed over bins of ``FINE_M_FACTOR`` pixels in
the fine scan) with the pre-shifted bin means of the template products (``_phased``).
Every shift has its own normal matrix: the spectrum's edges and masked pixels move
against the templates as the shift changes, and one matrix for the whole window
(tried) triples the NMAD.

Each shift's coefficients solve the normal equations with the emission-line groups held
non-negative (a few active-set passes, batched). Templates carry the Inoue et al. (2014)
mean IGM transmission at the peak's redshift (``pipeline.physics.igm``), as redrock's do.

The chosen peak, among the finely scanned ones, minimises χ²/s - 2 ln p (the network's
p(z) as a prior, floored; s the best coarse fit's reduced χ², at least 1); its fine fit
gives Z, ZERR (the curvature's error scaled by the reduced χ² when above 1, with a
floor), CHI2, NPIX_FIT and COEFF; the peaks together give the refined p(z)
(``pipeline.fit.posterior``) and its 68 % interval; DELTACHI2 is the χ² of the best
other minimum minus the chosen one's (redrock's definition, over distinct peaks; each
peak's χ² from its finest scan; 0 when the prior overrode a lower χ²).
Everything is batched torch on the CPU (or the tensors' device); no per-spectrum loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pipeline.fit import posterior
from pipeline.fit.templates import TemplateBasis, load_basis
from pipeline.learn.pz import ZBins, top_peaks
from pipeline.physics.igm import LYA_REST, apply_igm_transmission
from pipeline.sampling.grid import model_grid

#: Network peaks fitted per spectrum.
N_PEAKS = 3
#: Coarse scan: pixels per bin and half-window in bins (+-24 pixels = +-785 km/s, ~1.3
#: p(z) bins: a peak's mean is within a bin of the truth unless the network is wrong).
COARSE_FACTOR = 8
COARSE_HALF = 3
#: Peaks (best by the coarse score) that get the fine scan; the choice is made among them.
FINE_PEAKS = 2
#: Fine scan half-window in pixels around the coarse minimum.
FINE_HALF = 3
#: Columns averaged in the template products of the fine scan's normal matrices.
FINE_M_FACTOR = 4
#: Active-set passes for the non-negative line amplitudes.
ACTIVE_SET_PASSES = 3
#: Spectra per refinement pass (bounds the temporaries to ~100 MB).
REFINE_BATCH = 128
#: The network's peak probabilities act as a prior on the fits: the chosen peak minimises
#: χ² - 2 ln p, with p floored here (a prior can then outweigh at most Δχ² = 27.6).
PRIOR_FLOOR = 1e-6
#: Floor (pixels) added in quadrature to the fit's shift error: on simulated spectra the
#: refined Z scatters by more than the Δχ² = 1 curvature says (template mismatch,
#: artifacts, the parabola through integer shifts). Measured on 3,000 spectra of
#: ``benchmarks/refine.py`` (seed 4242, the shipped model of 2026-12-04): floor 0.5 / 0.6
#: / 0.7 px give |pull| < 1 for 66.5 / 70.8 / 73.1 % (Gaussian: 68.3 %), PIT KS distance
#: 0.077 / 0.091 / 0.108 and 68 % coverage 66.0 / 70.2 / 72.5 %.
SHIFT_ERR_FLOOR = 0.5
#: Spectrum-peak rows per placed block of the rest frame (see ``_project``).
GROUP_ROWS = 32
#: Ridge added to the normal matrix's diagonal, relative to its largest entry.
RIDGE = 1e-7


@dataclass
class Fit:
    """Per-spectrum results of the best of the K fits, each (B,) unless stated.

    z, zerr: refined redshift and its 1-sigma error; chi2: χ² of the best fit at the
    parabola's minimum; npix: pixels in the fit (ivar > 0); deltachi2: second-best
    minimum's χ² minus the best (0 when only one peak could be fitted); coeff: (B,
    n_templates) float32 coefficients at the best shift; peak: index (0..K-1) of the
    network peak the best fit came from; bracketed: the minimum lies inside the fine
    window with positive curvature (else the parabola is not trusted); z_peaks, chi2_peaks:
    (B, K) refined z and χ² of every peak (chi2 inf for peaks that could not be fitted);
    prob: the chosen peak's probability; z2, prob2: the best other peak's refined z (the
    lowest χ² among the others) and probability (NaN and 0 when there is none);
    z_lo, z_hi: the 16/84 % quantiles of the refined p(z) (``pipeline.fit.posterior``),
    whose components are (B, K) ``z_peaks``, ``sigma_peaks`` and ``weights``; chi2_scale:
    the errors' inflation max(1, reduced χ² of the best fit).
    """

    z: np.ndarray
    zerr: np.ndarray
    chi2: np.ndarray
    npix: np.ndarray
    deltachi2: np.ndarray
    coeff: np.ndarray
    peak: np.ndarray
    bracketed: np.ndarray
    z_peaks: np.ndarray
    chi2_peaks: np.ndarray
    prob: np.ndarray
    z2: np.ndarray
    prob2: np.ndarray
    z_lo: np.ndarray
    z_hi: np.ndarray
    sigma_peaks: np.ndarray
    weights: np.ndarray
    chi2_scale: np.ndarray

    def cdf(self, z: np.ndarray) -> np.ndarray:
        """The refined p(z)'s CDF at z (B,): the PIT at the true redshifts."""
        return posterior.cdf(z, self.z_peaks, self.sigma_peaks, self.weights)


def refine_pz(flux: np.ndarray, ivar: np.ndarray, pz: np.ndarray, bins: ZBins, basis: TemplateBasis | None = None) -> Fit:
    """``refine`` around the ``N_PEAKS`` most probable peaks of the network's p(u) ``pz``
    ((B, bins.n) on ``bins``)."""
    peak_u, peak_prob = top_peaks(pz, N_PEAKS, bins)
    return refine(flux, ivar, peak_u, peak_prob, basis)


def refine(flux: np.ndarray, ivar: np.ndarray, peak_u: np.ndarray, peak_prob: np.ndarray | None = None,
           basis: TemplateBasis | None = None) -> Fit:
    """Fit every spectrum around each of its network peaks and keep the best.

    flux, ivar: (B, npix) on the model grid (any consistent scale; ivar 0 = no data);
    peak_u: (B, K) peak centres in u = ln(1+z); peak_prob: (B, K) their probabilities
    (peaks with probability 0 are not fitted). Returns a ``Fit``.
    """
    basis = basis or load_basis()
    parts = [_refine(flux[s], ivar[s], peak_u[s], None if peak_prob is None else peak_prob[s], basis)
             for s in _slices(len(flux), REFINE_BATCH)]
    return Fit(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in Fit.__dataclass_fields__})


def _slices(n: int, size: int):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)] or [slice(0, 0)]


def _refine(flux, ivar, peak_u, peak_prob, basis: TemplateBasis) -> Fit:
    f = torch.from_numpy(np.nan_to_num(np.asarray(flux, np.float32), nan=0.0, posinf=0.0, neginf=0.0))
    w = torch.from_numpy(np.where(np.isfinite(flux), np.maximum(np.asarray(ivar, np.float32), 0.0), 0.0))
    centre = np.asarray(peak_u, np.float64) / basis.dln  # shifts in pixels, (B, K)
    data = _peak_data(f, w, centre)
    wf2 = (w * f * f).sum(1, dtype=torch.float64)
    coarse = _scan(data, data.row, wf2, basis, centre, COARSE_FACTOR, COARSE_HALF, COARSE_FACTOR)
    prob = np.full(centre.shape, 1.0 / centre.shape[1]) if peak_prob is None else np.asarray(peak_prob, np.float64)
    usable = np.isfinite(coarse.chi2_min) & (data.npix > basis.n) & (prob > 0)
    chi2 = np.where(usable, coarse.chi2_min, np.inf)
    prior = -2 * np.log(np.maximum(prob, PRIOR_FLOOR))
    # χ² in units of the best fit's reduced χ² (>= 1): template mismatch grows with S/N, and
    # raw differences between peaks would then overrule the network's prior
    reduced = np.where(usable, chi2 / np.maximum(data.npix - basis.n, 1), np.inf).min(axis=1)
    chi2_scale = np.where(np.isfinite(reduced), np.maximum(reduced, 1.0), 1.0)[:, None]
    # the best FINE_PEAKS peaks by the coarse score get the fine scan, and the choice comes
    # from theirs: 8-pixel steps miss sharp, bright lines by up to 4 pixels, and their
    # coarse χ² can then favour a wrong peak
    cand = np.argsort(chi2 / chi2_scale + prior, axis=1, kind="stable")[:, :FINE_PEAKS]
    fine = _scan(data, np.take_along_axis(data.row, cand, 1), wf2, basis, np.take_along_axis(coarse.shift, cand, 1), 1,
                 FINE_HALF, FINE_M_FACTOR)
    ok_cand = np.take_along_axis(usable, cand, 1) & np.isfinite(fine.chi2_min)
    _update(chi2, cand, ok_cand, fine.chi2_min)
    pick = np.argmin(np.where(ok_cand, fine.chi2_min / chi2_scale + np.take_along_axis(prior, cand, 1), np.inf), axis=1)
    rows = np.arange(len(pick))
    best = cand[rows, pick]
    others = np.where(np.arange(chi2.shape[1]) == best[:, None], np.inf, chi2)
    second = np.argmin(others, axis=1)
    others = others[rows, second]
    ok = usable[rows, best] & ok_cand[rows, pick]
    with np.errstate(invalid="ignore"):  # inf - inf where no peak could be fitted
        deltachi2 = np.where(np.isfinite(others) & ok, np.maximum(others - chi2[rows, best], 0), 0.0)
    z = np.expm1(fine.shift[rows, pick] * basis.dln)
    chi2_fit = np.where(ok, fine.chi2_min[rows, pick], np.nan)
    scale = np.where(ok, np.maximum(chi2_fit / np.maximum(data.npix[rows, best] - basis.n, 1), 1.0), 1.0)
    # every peak: its best scan's z and error (fine for the candidates, coarse for the rest)
    z_peaks = np.expm1(coarse.shift * basis.dln)
    shift_err = np.hypot(coarse.shift_err * np.sqrt(scale)[:, None], SHIFT_ERR_FLOOR)
    _update(z_peaks, cand, ok_cand, np.expm1(fine.shift * basis.dln))
    _update(shift_err, cand, ok_cand, np.hypot(fine.shift_err * np.sqrt(scale)[:, None], SHIFT_ERR_FLOOR))
    sigma = (1 + z_peaks) * basis.dln * shift_err
    w = posterior.weights(chi2, prob, scale, PRIOR_FLOOR)
    z_lo, z_hi = posterior.quantiles(z_peaks, sigma, np.where(np.isfinite(chi2), w, 0.0), (0.16, 0.84))
    return Fit(z=z, zerr=sigma[rows, best], chi2=chi2_fit, npix=data.npix[rows, best].astype(np.int32),
               deltachi2=deltachi2, coeff=fine.coeff[rows, pick].astype(np.float32), peak=best.astype(np.int16),
               bracketed=fine.bracketed[rows, pick] & ok, z_peaks=z_peaks, chi2_peaks=chi2, prob=prob[rows, best],
               z2=np.where(np.isfinite(others), z_peaks[rows, second], np.nan),
               prob2=np.where(np.isfinite(others), prob[rows, second], 0.0), z_lo=z_lo, z_hi=z_hi,
               sigma_peaks=sigma, weights=w, chi2_scale=scale)


def _update(values: np.ndarray, cand: np.ndarray, ok: np.ndarray, new: np.ndarray) -> None:
    """values[b, cand[b, j]] = new[b, j] where ok[b, j], in place; values (B, K), the rest (B, J)."""
    np.put_along_axis(values, cand, np.where(ok, new, np.take_along_axis(values, cand, 1)), 1)


@dataclass
class _PeakData:
    """ivar x flux (``g``) and ivar (``w``), each (R, npix) float32, for R data rows: the B
    spectra as they are, then one row per peak whose Lyman-alpha falls on the grid, with the mean IGM transmission T of its redshift applied (g T, w T^2).
    ``row`` (B, K): each peak's data row; ``npix`` (B, K): its pixels with ivar > 0."""

    g: torch.Tensor
    w: torch.Tensor
    row: np.ndarray
    npix: np.ndarray


def _peak_data(f: torch.Tensor, w: torch.Tensor, centre: np.ndarray) -> _PeakData:
    b, k = centre.shape
    grid = model_grid()
    z = np.expm1(centre * grid.dln).reshape(-1)
    hit = np.nonzero(LYA_REST * (1 + z) > grid.wavelength[0])[0]
    row = np.repeat(np.arange(b), k)
    row[hit] = b + np.arange(len(hit))
    t = torch.from_numpy(apply_igm_transmission(np.ones((len(hit), grid.n), np.float32), grid.wavelength, z[hit]))
    spectra = hit // k
    g = torch.cat([w * f, (w * f)[spectra] * t])
    wk = torch.cat([w, w[spectra] * t * t])
    npix = (wk > 0).sum(1).numpy()[row].reshape(b, k)
    return _PeakData(g, wk, row.reshape(b, k), npix)


@dataclass
class _Scan:
    """One scan's per-peak results, each (B, K): chi2_min (χ² at the parabola's minimum),
    shift and shift_err (the minimum, pixels, and its 1-sigma from the curvature),
    bracketed (bool), coeff (B, K, n) at the best integer shift."""

    chi2_min: np.ndarray
    shift: np.ndarray
    shift_err: np.ndarray
    bracketed: np.ndarray
    coeff: np.ndarray


@dataclass(frozen=True)
class _Tables:
    """The basis prepared for one scan of shifts ``steps`` (S,) pixels: ``shifted`` (S * n,
    Lf) the templates averaged over ``factor`` columns, row q * n + t holding template t as
    data shifted steps[q] pixels to higher z meet it (``_phased``); ``products_shifted``
    (S * n(n+1)/2, Lm) the same for the products T_t T_u (t <= u) averaged over
    ``m_factor`` columns, ``pairs`` their (t, u)."""

    shifted: torch.Tensor
    products_shifted: torch.Tensor
    pairs: tuple[np.ndarray, np.ndarray]


_TABLES: dict[tuple, _Tables] = {}


def _phased(a: np.ndarray, factor: int, steps: np.ndarray) -> torch.Tensor:
    """(S * n, ceil(L / factor)) float32 from ``a`` (n, L): block q holds the means of
    ``a`` over the columns factor*K - steps[q] ... + factor - 1 (zero outside 0..L-1).
    Data placed ``steps[q]`` pixels to higher z and summed in bins of ``factor`` from bin
    K meet block q at column K, whatever the step's phase within a bin, so one placement
    of the data serves every shift."""
    n, length = a.shape
    lb = -(-length // factor)
    pad = int(np.abs(steps).max(initial=0)) + factor
    padded = np.zeros((n, pad + lb * factor + pad))
    padded[:, pad:pad + length] = a
    return torch.from_numpy(np.concatenate([
        padded[:, pad - d:pad - d + lb * factor].reshape(n, lb, factor).mean(-1) for d in np.asarray(steps)
    ]).astype(np.float32))


def _tables(basis: TemplateBasis, factor: int, half: int, m_factor: int) -> _Tables:
    key = (id(basis.flux), factor, half, m_factor)
    if key not in _TABLES:
        flux = np.asarray(basis.flux, np.float64)
        iu = np.triu_indices(len(flux))
        steps = factor * np.arange(-half, half + 1)
        _TABLES[key] = _Tables(_phased(flux, factor, steps), _phased(flux[iu[0]] * flux[iu[1]], m_factor, steps), iu)
    return _TABLES[key]


def _binned_rows(data: torch.Tensor, row: np.ndarray, phase: np.ndarray, factor: int) -> torch.Tensor:
    """(P, npix // factor + 1) sums over ``factor`` pixels of rows ``row`` of ``data`` (R,
    npix), bin J of row p holding pixels factor*J - phase[p] ... + factor - 1."""
    npix = data.shape[1]
    if factor == 1:
        return data[torch.from_numpy(row)]
    width = npix // factor + 1
    out = torch.empty(len(row), width)
    for ph in np.unique(phase):  # at most ``factor`` groups of rows
        sel = np.nonzero(phase == ph)[0]
        padded = torch.nn.functional.pad(data[torch.from_numpy(row[sel])], (ph, width * factor - npix - ph))
        out[torch.from_numpy(sel)] = padded.reshape(len(sel), width, factor).sum(-1)
    return out


def _project(data: torch.Tensor, row: np.ndarray, start: np.ndarray, factor: int, table: torch.Tensor) -> torch.Tensor:
    """Rows ``row`` (P,) of observed-frame ``data`` (R, npix) placed with pixel 0 at rest
    column ``start`` (P,), summed into rest bins of ``factor`` columns and multiplied by
    ``table`` (T, n_bins): (P, T) float32.

    A row covers npix / factor bins of the table's n_bins; rows sorted by position go in
    groups of ``GROUP_ROWS`` that each multiply only the columns they span, so the work
    is close to P x npix / factor x T rather than P x n_bins x T."""
    rows, n_bins = len(row), table.shape[1]
    phase = start % factor
    data = _binned_rows(data, row, phase, factor)
    width = data.shape[1]
    # the templates' zero padding keeps every peak of 0 <= z <= Z_MAX inside; clipping
    # only guards the array bounds
    first = np.clip((start - phase) // factor, 0, n_bins - width)
    order = np.argsort(first, kind="stable")
    out = torch.empty(rows, table.shape[0])
    for group in np.array_split(order, max(1, -(-rows // GROUP_ROWS))):
        lo = int(first[group].min())
        span = int(first[group].max()) - lo + width
        placed = np.zeros((len(group), span), np.float32)
        flat = (np.arange(len(group)) * span + first[group] - lo)[:, None] + np.arange(width)
        placed.reshape(-1)[flat] = data[torch.from_numpy(group)].numpy()
        out[torch.from_numpy(group)] = torch.from_numpy(placed) @ table[:, lo:lo + span].T
    return out


def _scan(data: _PeakData, row: np.ndarray, wf2, basis: TemplateBasis, centre: np.ndarray, factor: int, half: int,
          m_factor: int) -> _Scan:
    """χ² at shifts round(centre) + factor*q, q = -half..half, for every (spectrum, peak):
    ``row`` (B, K) the peaks' data rows in ``data``, centre (B, K) their shifts in pixels.

    Projections use templates averaged over ``factor`` columns; every shift's normal
    matrix uses the template products averaged over ``m_factor`` columns (exact where
    the ivar is constant over that many pixels)."""
    b, k = row.shape
    row = row.reshape(-1)
    tab = _tables(basis, factor, half, m_factor)
    n = basis.n
    s0 = np.rint(centre).astype(np.int64).reshape(-1)
    steps = factor * np.arange(-half, half + 1)
    y = _project(data.g, row, basis.offset - s0, factor, tab.shifted)
    # every shift's normal matrix: ivar bin sums times the pre-shifted product means
    packed = _project(data.w, row, basis.offset - s0, m_factor, tab.products_shifted).double()
    packed = packed.reshape(len(row), len(steps), -1)
    m = torch.zeros(b * k, len(steps), n, n, dtype=torch.float64)
    m[..., tab.pairs[0], tab.pairs[1]] = packed
    m[..., tab.pairs[1], tab.pairs[0]] = packed
    coeff, chi2 = _solve(m.reshape(b, k, len(steps), n, n), y.double().reshape(b, k, len(steps), n), wf2,
                         torch.from_numpy(basis.is_line))
    chi2 = chi2.numpy()
    step, err, bracketed, chi2_min, q = _parabola(chi2)
    best = np.take_along_axis(coeff.numpy(), q[..., None, None], axis=2)[:, :, 0]
    shift = s0.reshape(b, k) + factor * (step - half)
    return _Scan(chi2_min, shift, factor * err, bracketed, best)


def _solve(m: torch.Tensor, y: torch.Tensor, wf2: torch.Tensor, is_line: torch.Tensor):
    """Least-squares coefficients (B, K, S, n) with lines >= 0, and χ² (B, K, S).

    m: (B, K, S, n, n) normal matrices, y: (B, K, S, n) projections, wf2: (B,) sum ivar f^2.
    """
    n = m.shape[-1]
    eye = torch.eye(n, dtype=m.dtype)
    m = m + RIDGE * m.diagonal(dim1=-2, dim2=-1).amax(-1).clamp_min(1e-30)[..., None, None] * eye
    active = torch.ones(y.shape, dtype=torch.bool)
    for _ in range(ACTIVE_SET_PASSES):
        a = active.to(m.dtype)
        ma = m * a[..., :, None] * a[..., None, :] + torch.diag_embed(1 - a)
        c = torch.linalg.solve(ma, (y * a)[..., None])[..., 0] * a
        negative = (c < 0) & is_line
        if not bool(negative.any()):
            break
        active &= ~negative
    # lines still negative after the last pass are dropped (their χ² is then an upper bound)
    c = torch.where((c < 0) & is_line, torch.zeros_like(c), c)
    quad = (c[..., None, :] @ m @ c[..., :, None])[..., 0, 0]
    chi2 = wf2[:, None, None] - 2 * (c * y).sum(-1) + quad
    return c, chi2


def _parabola(chi2: np.ndarray):
    """From the three lowest points of each χ² curve (B, K, S): the sub-step minimum (in
    steps, 0..S-1), its 1-sigma (steps, Δχ² = 1), whether it is bracketed with positive
    curvature, the χ² there (the lowest point when not bracketed) and the lowest step,
    (B, K) each."""
    s = chi2.shape[-1]
    q = np.argmin(chi2, axis=-1)
    qc = np.clip(q, 1, s - 2)
    lo, mid, hi = (np.take_along_axis(chi2, (qc + d)[..., None], axis=-1)[..., 0] for d in (-1, 0, 1))
    curv = lo - 2 * mid + hi  # = 2a, a the curvature per step^2
    ok = (q > 0) & (q < s - 1) & (curv > 0) & np.isfinite(curv)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.clip(np.where(ok, 0.5 * (lo - hi) / curv, 0.0), -0.5, 0.5)
        err = np.where(ok, np.sqrt(2.0 / np.where(ok, curv, 1.0)), 1.0)
        lowest = np.take_along_axis(chi2, q[..., None], axis=-1)[..., 0]
        at_min = np.where(ok, np.minimum(mid + 0.5 * (hi - lo) * delta + 0.5 * curv * delta**2, lowest), lowest)
    return q + delta, err, ok, at_min, q
