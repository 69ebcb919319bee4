"""Train a network on a thesis-preset store and score it on the held-out test split.

    python benchmarks/train_redshift.py --store data/thesis-221k.zarr --model default \
        --out models/default --max-minutes 55

Prints NMAD, eta (|dz|/(1+z) > 0.05) and bias overall and for z < 2.4 / z >= 2.4 next
to the thesis's figures, per S/N and population where the store records them, p(z) calibration (PIT, 68 % coverage), the ISM RMSE/pull
table, scores at physical S/N 5, 10, 20, 50 (fresh spectra, thesis prior), and the
network's inference speed at batch 1024 with its multiply-accumulates per spectrum.
``--skip-training`` scores an existing model directory.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import zarr

from flows.jobs.train import TrainRequest, run_training
from pipeline.assess import evaluation, metrics
from pipeline.learn import inference
from pipeline.learn.networks import build_from_card, task_from_card
from pipeline.learn.networks.macs import count_macs
from pipeline.learn.training import evaluate, load_model, with_redshift
from pipeline.physics.instruments import DEIMOS
from pipeline.physics.populations import POPULATIONS
from pipeline.physics.priors import draw
from pipeline.physics.simulate import SimulationConfig, simulate
from pipeline.physics.spectypes import SPECTYPES
from storage.loader import StoreBatches

#: The thesis's test-set figures (its §4.1; quoted in the project's issue 4).
THESIS = {"all": (0.0086, 0.0538), "z < 2.4": (0.028, 0.135)}
Z_EDGES = [0.0, 2.4, 7.0]
SNR_LEVELS = (5, 10, 20, 50)
SNR_EDGES = [0.0, 5.0, 10.0, 20.0, 1e9]


def score_test(task, model, store: str, limit: int | None) -> dict:
    test = StoreBatches(store, "test", 1024, limit=limit, transform=task.inputs)
    return evaluate(task, model, test, torch.device("cpu"), keep_pz=hasattr(task, "bins"))


def print_classes(result: dict) -> None:
    """Completeness, purity and the network's redshift scores per true SPECTYPE, with the
    confusion matrix (stores made with the ``survey`` preset; S/N columns: target S/N)."""
    if "true_spectype" not in result or "spectype" not in result:
        return
    names = np.asarray(list(SPECTYPES.values()))
    cat = {"SPECTYPE": names[result["spectype"]], "SN_MEDIAN": result["true_snr"], "Z": result["z"]}
    rows = evaluation.class_table(cat, {"spectype": result["true_spectype"], "z": result["true_z"]})
    print(metrics.format_table(rows, list(evaluation.CLASS_COLUMNS)))


def print_redshift(result: dict) -> None:
    print_classes(result)
    result = with_redshift(result)  # sky fibres have no redshift to score
    rows = metrics.binned_redshift_metrics(result["z"], result["true_z"], result["true_z"], Z_EDGES,
                                           labels=["z < 2.4", "z >= 2.4"])
    for row in rows:
        nmad, eta = THESIS.get(row["bin"], (None, None))
        row["thesis_nmad"], row["thesis_eta"] = nmad, eta
    print(metrics.format_table(rows, ["bin", "n", ("nmad", ".5f"), ("eta", ".2%"), ("bias", ".5f"),
                                      ("thesis_nmad", ".4f"), ("thesis_eta", ".2%")]))
    snr = result.get("true_snr")
    if snr is not None and np.ptp(snr) > 0:  # physical-noise stores: S/N spread per spectrum
        rows = metrics.binned_redshift_metrics(result["z"], result["true_z"], snr, SNR_EDGES,
                                               labels=[f"S/N {a:g}-{b:g}" for a, b in zip(SNR_EDGES, SNR_EDGES[1:])])
        print(metrics.format_table(rows, ["bin", "n", ("nmad", ".5f"), ("eta", ".2%"), ("bias", ".5f")]))
    classes = result.get("true_galaxy_class")
    if classes is not None:
        rows = []
        galaxy = result.get("true_spectype", np.zeros(len(classes))) == 0  # a quasar's class is its host's
        for code, name in POPULATIONS.items():
            mine = (classes == code) & galaxy
            if mine.any():
                rows.append({"bin": name, **metrics.redshift_metrics(result["z"][mine], result["true_z"][mine])})
        print(metrics.format_table(rows, ["bin", "n", ("nmad", ".5f"), ("eta", ".2%"), ("bias", ".5f")]))
    if "pz" in result:
        u = np.log1p(result["true_z"])
        pit = metrics.pit(result["pz"], np.arange(result["pz"].shape[1] + 1) * 0.002, u)
        cover = metrics.interval_coverage(result["z_lo"], result["z_hi"], result["true_z"])
        print(f"p(z): PIT KS distance {metrics.pit_ks_distance(pit):.3f}, 68 % interval coverage {cover:.3f}, "
              f"secondary peak p2 > 0.1 for {np.mean(result['p2'] > 0.1):.2%}")


def print_ism(result: dict, task) -> None:
    props = [p for p in getattr(task, "properties", []) if f"true_{p}" in result]
    if "true_spectype" in result:  # ISM properties of galaxies only
        keep = result["true_spectype"] == 0
        result = {k: v[keep] if np.ndim(v) and len(v) == len(keep) else v for k, v in result.items()}
    if props:
        rows = metrics.ism_metrics({p: result[p] for p in props}, {p: result[f"{p}_err"] for p in props},
                                   {p: result[f"true_{p}"] for p in props})
        print(metrics.format_table(rows, ["property", "n", ("rmse", ".4f"), ("pull_mean", ".3f"),
                                          ("pull_std", ".3f"), ("frac_pull_lt_1", ".3f")]))


def score_snr(task, model, n: int) -> None:
    """Fresh spectra of the thesis prior with physical sky noise at fixed S/N."""
    config = SimulationConfig(instrument=DEIMOS, noise="physical", igm=False, rest_min=1200.0)
    rows = []
    for i, snr in enumerate(SNR_LEVELS):
        params = draw("thesis", n, np.random.default_rng([77, i]), DEIMOS)
        params["snr"] = np.full(n, float(snr))
        spectra = simulate(params, config, seed=[77, i, 1])
        pred = inference.predict(task, model, spectra.flux, spectra.ivar)
        rows.append({"snr": snr, **metrics.redshift_metrics(pred["z"], spectra.labels["z"])})
    print(metrics.format_table(rows, ["snr", "n", ("nmad", ".5f"), ("eta", ".2%"), ("bias", ".5f")]))


def inference_speed(task, model, store: str) -> None:
    batch = next(iter(StoreBatches(store, "test", 1024)))
    start = time.perf_counter()
    x = torch.from_numpy(task.inputs(batch.flux, batch.ivar))
    prepared = time.perf_counter() - start
    inference.forward(model, x)
    start = time.perf_counter()
    for _ in range(5):
        inference.forward(model, x)
    seconds = (time.perf_counter() - start) / 5
    macs = count_macs(model.float(), tuple(x.shape[1:]))
    print(f"inference, batch 1024, {torch.get_num_threads()} threads, bf16: network {1024 / seconds:,.0f} spectra/s; "
          f"with input preparation {1024 / (seconds + prepared):,.0f}/s; {macs / 1e6:.2f} M MACs per spectrum")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True)
    parser.add_argument("--model", default="default", choices=["default", "baseline"])
    parser.add_argument("--out", default=None)
    parser.add_argument("--max-minutes", type=float, default=55.0)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--limit", type=int, default=None, help="training spectra per epoch")
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--snr-n", type=int, default=4096, help="spectra per S/N level (0: skip)")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    out = args.out or f"models/{args.model}"
    if not args.skip_training:
        start = time.perf_counter()
        card = run_training(TrainRequest(args.store, args.model, out, args.max_minutes, max_epochs=args.epochs,
                                         limit=args.limit), progress_bar=False)
        print(f"trained {args.model}: {card['epochs']} epochs in {(time.perf_counter() - start) / 60:.1f} min "
              f"({card.get('stopped_by')}), best epoch {card['best_epoch']}")
    wavelength = zarr.open_array(args.store, path="wavelength", mode="r")[:]
    model, card = load_model(out, build_from_card)
    task = task_from_card(card, wavelength)
    result = score_test(task, model, args.store, args.test_limit)
    print(f"test split of {args.store}: {len(result['z']):,} spectra")
    print_redshift(result)
    print_ism(result, task)
    if args.model == "default" and args.snr_n > 0:
        print("physical sky noise at fixed S/N (thesis prior, DEIMOS-like, no IGM):")
        score_snr(task, model, args.snr_n)
    inference_speed(task, model, args.store)


if __name__ == "__main__":
    main()
