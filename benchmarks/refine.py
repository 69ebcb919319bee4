"""The network's redshifts against the template fit's, on freshly simulated spectra.

    python benchmarks/refine.py [--n 6000] [--seed 4242] [--model survey]

Simulates ``--n`` spectra of the ``default`` preset (a third each with DESI, SDSS and
DEIMOS coverage), scores them with the model (network) and refines its top p(z) peaks
(``pipeline.fit``), then prints NMAD and the outlier fraction eta (|dz|/(1+z) > 0.05)
of Z_NET and Z per galaxy class and S/N bin, the fraction flagged (ZWARN != 0 from the
fit's bits) and eta among the unflagged, the ZERR pulls, the calibration of the
network's and the refined p(z) (PIT KS distance, 68 % interval coverage), and both
stages' speed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from flows.runtime.malloc import keep_freed_memory
from pipeline.assess import evaluation, metrics, zwarning
from pipeline.assess.metrics import OUTLIER_THRESHOLD, nmad
from pipeline.fit.refine import refine_pz
from pipeline.learn import inference, weights
from pipeline.learn.models import loaded_model
from pipeline.physics.instruments import DEIMOS, DESI, SDSS
from pipeline.physics.simulate import simulate_chunk
from pipeline.sampling.grid import model_grid


def simulated(n: int, seed: int) -> dict:
    """Spectra (scaled to unit mean |flux|, as a survey store holds them) and labels."""
    parts = [simulate_chunk(c, n // 3, seed=seed, instrument=inst) for c, inst in enumerate((DESI, SDSS, DEIMOS))]
    flux = np.concatenate([p.flux for p in parts])
    scale = np.abs(flux).mean(1, keepdims=True) + 1e-30
    labels = {k: np.concatenate([p.labels[k] for p in parts]) for k in ("z", "galaxy_class", "snr")}
    return {"flux": (flux / scale).astype(np.float32),
            "ivar": (np.concatenate([p.ivar for p in parts]) * scale**2).astype(np.float32), **labels}


def line(name: str, sel, z, z_net, z_fit, flagged) -> str:
    def eta(zz):
        return np.mean(np.abs(zz[sel] - z[sel]) / (1 + z[sel]) > OUTLIER_THRESHOLD)

    clean = sel & ~flagged
    eta_clean = np.mean(np.abs(z_fit[clean] - z[clean]) / (1 + z[clean]) > OUTLIER_THRESHOLD) if clean.any() else 0
    return (f"{name:>16s} {sel.sum():6d}  {nmad(z_net[sel], z[sel]):9.5f} {eta(z_net):7.2%}  "
            f"{nmad(z_fit[sel], z[sel]):9.5f} {eta(z_fit):7.2%}  {flagged[sel].mean():8.1%} {eta_clean:8.2%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--model", default=weights.DEFAULT)
    args = parser.parse_args()
    keep_freed_memory()
    data = simulated(args.n, args.seed)
    loaded = loaded_model(weights.resolve(args.model), model_grid().wavelength)
    refine_pz(data["flux"][:8], data["ivar"][:8], np.full((8, loaded.task.bins.n), 1.0 / loaded.task.bins.n),
              loaded.task.bins)  # builds or loads the basis: not timed
    tick = time.perf_counter()
    pred = inference.predict(loaded.task, loaded.model, data["flux"], data["ivar"])
    net_s = time.perf_counter() - tick
    tick = time.perf_counter()
    fit = refine_pz(data["flux"], data["ivar"], pred["pz"], loaded.task.bins)
    fit_s = time.perf_counter() - tick
    z, n = data["z"], len(data["z"])
    bits = zwarning.from_fit(fit.z, fit.zerr, pred["z"], pred["zerr"], fit.chi2, fit.npix, fit.coeff.shape[1],
                             fit.deltachi2, fit.bracketed)
    flagged = bits != 0
    print(f"{n:,} spectra; network {n / net_s:,.0f} spectra/s, fit {n / fit_s:,.0f} spectra/s "
          f"(2 torch threads on this machine)")
    print(f"{'rows':>16s} {'n':>6s}  {'NMAD net':>9s} {'eta net':>7s}  {'NMAD fit':>9s} {'eta fit':>7s}  "
          f"{'flagged':>8s} {'eta clean':>8s}")
    groups = [("all", np.ones(n, bool))]
    groups += [(f"class {int(c)}", data["galaxy_class"] == c) for c in np.unique(data["galaxy_class"])]
    groups += [(f"S/N {lo}-{hi}", (data["snr"] >= lo) & (data["snr"] < hi)) for lo, hi in ((0, 5), (5, 15), (15, 1e9))]
    for name, sel in groups:
        print(line(name, sel, z, pred["z"], fit.z, flagged))
    good = np.abs(fit.z - z) / (1 + z) < 0.01
    pull = ((fit.z - z) / fit.zerr)[good]
    print(f"ZERR pulls (non-outliers): NMAD {1.4826 * np.median(np.abs(pull - np.median(pull))):.2f}, "
          f"median {np.median(pull):+.2f}; fit bits: " + ", ".join(
              f"{k} {v}" for k, v in zwarning.zwarn_counts(bits).items()))
    pit_net = evaluation.pit(pred["pz"], z, loaded.task.bins)
    pit_fit = fit.cdf(z)
    print(f"p(z) calibration: network PIT KS {metrics.pit_ks_distance(pit_net):.3f}, 68 % coverage "
          f"{metrics.interval_coverage(pred['z_lo'], pred['z_hi'], z):.1%}; refined PIT KS "
          f"{metrics.pit_ks_distance(pit_fit):.3f}, coverage {metrics.interval_coverage(fit.z_lo, fit.z_hi, z):.1%}")


if __name__ == "__main__":
    main()
