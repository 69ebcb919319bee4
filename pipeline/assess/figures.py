"""Evaluation figures: the thesis's redshift panels, p(z) calibration, ISM recovery.

The three redshift panels follow the thesis's results figures (its §4): predicted
against true z with the identity line, Δz/(1+z) against z with the ±0.05 outlier
lines (``metrics.OUTLIER_THRESHOLD``), and the histogram of Δz/(1+z). Each function
writes one PNG and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.assess.metrics import OUTLIER_THRESHOLD, delta_z, pit_histogram


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def redshift_panels(z_pred, z_true, path) -> Path:
    """True vs predicted z, Δz/(1+z) vs z, and the Δz/(1+z) histogram (arrays (N,))."""
    plt = _pyplot()
    z_pred, z_true = np.asarray(z_pred, float), np.asarray(z_true, float)
    dz = delta_z(z_pred, z_true)
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.6))
    hi = float(np.nanmax(z_true)) * 1.05 if len(z_true) else 1.0
    ax[0].scatter(z_true, z_pred, s=2, alpha=0.3, rasterized=True)
    ax[0].plot([0, hi], [0, hi], "k-", lw=0.8, label="identity")
    ax[0].set(xlabel="true z", ylabel="predicted z", xlim=(0, hi), ylim=(0, hi))
    ax[0].legend(loc="upper left")
    ax[1].scatter(z_true, dz, s=2, alpha=0.3, rasterized=True)
    for sign in (-1, 1):
        ax[1].axhline(sign * OUTLIER_THRESHOLD, color="r", lw=0.8, ls="--")
    ax[1].set(xlabel="true z", ylabel="Δz / (1+z)", ylim=(-4 * OUTLIER_THRESHOLD, 4 * OUTLIER_THRESHOLD))
    inside = np.abs(dz) < 2 * OUTLIER_THRESHOLD
    ax[2].hist(dz[inside], bins=100)
    ax[2].set(xlabel="Δz / (1+z)", ylabel="spectra", yscale="log")
    return _save(fig, path)


def pit_panel(pit_values, path, n_bins: int = 20) -> Path:
    """Histogram of PIT values (uniform when p(z) is calibrated)."""
    plt = _pyplot()
    counts = pit_histogram(pit_values, n_bins)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.bar((np.arange(n_bins) + 0.5) / n_bins, counts, width=1.0 / n_bins)
    ax.axhline(counts.sum() / n_bins, color="k", lw=0.8, label="calibrated")
    ax.set(xlabel="PIT", ylabel="spectra")
    ax.legend()
    return _save(fig, path)


def ism_panels(pred: dict, true: dict, labels: dict[str, str], path) -> Path:
    """True vs predicted value per ISM property (name -> (N,) arrays; labels: axis text)."""
    plt = _pyplot()
    names = [n for n in labels if n in pred and n in true]
    fig, axes = plt.subplots(1, max(len(names), 1), figsize=(3.6 * max(len(names), 1), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        t, p = np.asarray(true[name], float), np.asarray(pred[name], float)
        lo, hi = np.nanpercentile(np.concatenate([t, p]), [0.5, 99.5])
        ax.scatter(t, p, s=2, alpha=0.3, rasterized=True)
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set(xlabel=f"true {labels[name]}", ylabel=f"predicted {labels[name]}", xlim=(lo, hi), ylim=(lo, hi))
    return _save(fig, path)
