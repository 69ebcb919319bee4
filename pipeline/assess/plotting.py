"""Figures of simulated spectra for a person to look at."""

from __future__ import annotations

import numpy as np

#: Lines marked on plots: label -> grid line name.
MARKED_LINES = {
    "Lyα": "Lyalpha", "CIV": "CIV1548", "CIII]": "CIII1909", "[OII]": "OII3729",
    "Hβ": "Hbeta", "[OIII]": "OIII5007", "Hα": "Halpha", "[SIII]": "SIII9531",
}


def plot_spectra(spectra, path, ncols: int = 2, max_spectra: int = 16) -> None:
    """Plot up to ``max_spectra`` spectra (noisy flux, noiseless model, main lines) to a PNG.

    spectra: a ``simulate.Spectra``; path: output file name.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.physics.nebular import load_line_grid

    grid = load_line_grid()
    n = min(len(spectra), max_spectra)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(7 * ncols, 2.2 * nrows), squeeze=False)
    lam = spectra.wavelength
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        covered = spectra.ivar[i] > 0
        _plot_one(ax, lam, spectra.flux[i], spectra.model_flux[i], covered, spectra.labels, i, grid)
    for ax in axes[-1]:
        ax.set_xlabel("observed vacuum wavelength [Å]")
    fig.supylabel("flux density [1e-17 erg s⁻¹ cm⁻² Å⁻¹]")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_one(ax, lam, flux, model, covered, labels, i, grid) -> None:
    z = labels["z"][i]
    ax.plot(lam[covered], flux[covered], lw=0.4, color="0.55", label="noisy")
    ax.plot(lam[covered], model[covered], lw=0.6, color="C0", label="model")
    lo, hi = lam[covered][[0, -1]] if covered.any() else (lam[0], lam[-1])
    top = np.percentile(model[covered], 99.5) * 1.3 if covered.any() else 1.0
    for label, name in MARKED_LINES.items():
        obs = grid.wavelength[grid.index(name)] * (1 + z)
        if lo < obs < hi:
            ax.axvline(obs, color="C3", lw=0.5, ls=":")
            ax.text(obs, top * 0.92, label, color="C3", fontsize=7, ha="center")
    ax.set_xlim(lam[0], lam[-1])
    ax.set_ylim(min(0, np.percentile(flux[covered], 1)) if covered.any() else 0, top)
    ax.set_title(f"z = {z:.4f}  log SFR = {labels['log_sfr'][i]:.2f}  S/N = {labels['snr'][i]:.1f}", fontsize=8)
