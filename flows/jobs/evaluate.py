"""Evaluation glue without Prefect: a catalogue and its truth -> tables, figures, report.

The truth lives in the simulated survey store the catalogue was scored from
(``spectroflow generate --kind survey``); the catalogue's provenance names that store
and the model, so ``EvaluateRequest(catalogue_dir)`` needs nothing else. p(z)
calibration (PIT) needs the full p(z), which a catalogue does not keep: the model is
run again on a sample of spectra spread over the store. When the real spectra with
published redshifts are unpacked (``scripts/unpack_real_spectra.py``), the report also
holds a table of the model on them (``flows/jobs/real_spectra.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from flows.jobs import real_spectra as real_spectra_job
from flows.jobs.predict import predict_batches
from pipeline.assess import evaluation, figures, metrics
from pipeline.assess import real_spectra as real_judge
from pipeline.assess.report import Report
from pipeline.fit.refine import refine_pz
from pipeline.learn.models import loaded_model
from pipeline.learn.training import CheckpointError, read_card
from storage import catalogue, chunk_io, location, real_spectra, store, survey_store

#: Spectra whose full p(z) is recomputed for the PIT (spread over up to PIT_CHUNKS chunks).
PIT_SAMPLE = 8192
PIT_CHUNKS = 8
#: Rows drawn in the scatter panels (all rows enter every number).
FIGURE_SAMPLE = 50_000
#: The report's table of the model on real spectra with published redshifts, added
#: when they are unpacked (``scripts/unpack_real_spectra.py``) and a model is known.
REAL_SPECTRA_TITLE = "Real spectra with published redshifts"


@dataclass(frozen=True)
class EvaluateRequest:
    """Evaluate the catalogue in ``catalogue``; ``store``/``model`` default to the ones its
    provenance names, ``out`` to ``<catalogue>/report``."""

    catalogue: str
    store: str | None = None
    model: str | None = None
    out: str | None = None

    def resolved(self) -> EvaluateRequest:
        """The request with every default filled in; raises ValueError naming what is
        missing or unusable (no catalogue, a store without truth, no model)."""
        made = catalogue.provenance(self.catalogue) if location.exists(
            location.join(self.catalogue, "catalogue.parquet")) else None
        if made is None:
            raise ValueError(f"{self.catalogue} holds no catalogue.parquet (run `spectroflow score` into it)")
        request = replace(self, store=self.store or made.get("input_store"), model=self.model or made.get("model_dir"),
                          out=self.out or _default_report_dir(self.catalogue))
        if not request.store or not store.exists(request.store):
            raise ValueError(f"{request.store}: not a store; pass the survey store the catalogue was scored from")
        survey_store.require_truth(store.open_read(request.store))
        if request.model and not Path(request.model, "model.pt").is_file():
            raise ValueError(f"{request.model}: no model.pt (pass --model, or none to skip the PIT)")
        card = _card(request.model) or made.get("model_card") or {}
        refuse_shared_galaxies(card.get("training_store") or {}, request.store,
                               store.read_attrs(request.store).get("generator"))
        return request


#: Generator settings that fix the parameter stream: chunk i of a generated store draws
#: its galaxies from SeedSequence([seed, i, 0]) through the prior, whatever its kind,
#: size or instrument, so two stores with equal values here share galaxies.
STREAM_KEYS = ("seed", "prior")


def refuse_shared_galaxies(training: dict, survey_path: str, survey_generator: dict | None) -> None:
    """ValueError naming both stores if the survey store was drawn from the parameter
    stream of the model's training store (``training``: the model card's
    ``training_store`` record, with ``path`` and ``generator``). Ingested surveys (no
    generator) and models without a training-store record pass."""
    trained = training.get("generator")
    if not trained or not survey_generator:
        return
    if all(trained.get(k) == survey_generator.get(k) for k in STREAM_KEYS):
        same = ", ".join(f"{k} {survey_generator.get(k)!r}" for k in STREAM_KEYS)
        raise ValueError(
            f"survey store {survey_path} shares galaxies with the model's training store "
            f"{training.get('path', '(unnamed)')}: both were generated with {same}, so the survey repeats "
            "training galaxies and its scores would be optimistic; generate the survey with another --seed "
            "(`spectroflow generate --kind survey` defaults to a seed no training store gets by default)")


def _card(model_dir: str | None) -> dict | None:
    """The model card in ``model_dir``, or None if there is none."""
    if not model_dir:
        return None
    try:
        return read_card(model_dir)
    except CheckpointError:
        return None


def _default_report_dir(catalogue_dir: str) -> str:
    """``<catalogue>/report``; for a catalogue at a URL, ``<name>-report`` here (the
    figures and pages are written locally)."""
    if location.is_url(catalogue_dir):
        return f"{catalogue_dir.rstrip('/').rsplit('/', 1)[-1]}-report"
    return str(Path(catalogue_dir) / "report")


def load(request: EvaluateRequest) -> tuple[dict, dict]:
    """(catalogue columns, truth), both (N,) arrays in store order; checks they match."""
    cat = catalogue.read(request.catalogue)
    group = store.open_read(request.store)
    truth = survey_store.read_truth(group)
    if not np.array_equal(cat["TARGETID"], group["targetid"][:]):
        raise ValueError(f"{request.catalogue} was not scored from {request.store}: TARGETIDs differ")
    return cat, truth


def pit_values(store_path: str, model_dir: str, refined: bool = False) -> np.ndarray:
    """PIT for ``PIT_SAMPLE`` spectra spread over the store's chunks: of the model's p(z),
    or with ``refined`` (a catalogue scored with the template fit) of the refined p(z)
    (``pipeline.fit.posterior``) the catalogue's Z_LO/Z_HI come from."""
    group = store.open_read(store_path)
    n, size = store.layout(store_path)
    chunks = np.unique(np.linspace(0, store.n_chunks(n, size) - 1, PIT_CHUNKS).round().astype(int))
    per_chunk = -(-PIT_SAMPLE // len(chunks))
    loaded = loaded_model(model_dir, group["wavelength"][:])
    values = []
    for index in chunks:
        data = chunk_io.read_rows(group, ("flux", "ivar", "true_z"), int(index))
        for batch in predict_batches(loaded, data, limit=per_chunk):
            true_z = data["true_z"][batch.rows]
            if refined:
                fit = refine_pz(batch.flux, batch.ivar, batch.prediction["pz"], loaded.task.bins)
                values.append(fit.cdf(true_z))
            else:
                values.append(evaluation.pit(batch.prediction["pz"], true_z))
    return np.concatenate(values)


def draw_figures(cat: dict, truth: dict, pit: np.ndarray | None, out: Path) -> dict[str, Path]:
    """The report's PNGs: the thesis's redshift panels, PIT, ISM true vs predicted."""
    rows = evaluation.sample_rows(len(cat["Z"]), FIGURE_SAMPLE)
    paths = {"Redshift: predicted vs true, Δz/(1+z) vs z, Δz/(1+z) histogram":
             figures.redshift_panels(cat["Z"][rows], truth["z"][rows], out / "redshift.png")}
    if pit is not None:
        paths["p(z) calibration: PIT histogram"] = figures.pit_panel(pit, out / "pit.png")
    pred, true, labels = evaluation.ism_pairs({k: v[rows] for k, v in cat.items()},
                                              {k: v[rows] for k, v in truth.items()})
    if labels:
        paths["ISM properties: predicted vs true"] = figures.ism_panels(pred, true, labels, out / "ism.png")
    return paths


def build_report(request: EvaluateRequest, cat: dict, truth: dict, pit: np.ndarray | None,
                 paths: dict[str, Path]) -> tuple[Report, dict]:
    """The report and the summary dict (headline figures) of an evaluation."""
    classes = evaluation.class_table(cat, truth)
    cat, truth = evaluation.redshift_rows(cat, truth)  # sky fibres have no redshift to score
    head = evaluation.headline(cat, truth)
    if classes:
        head["classes"] = [{k: row[k] for k in ("class", "n", "completeness", "purity")} for row in classes]
    if pit is not None:
        head["pit_ks"] = metrics.pit_ks_distance(pit)
    lines = [f"catalogue {request.catalogue} ({head['n']:,} rows), store {request.store}, model {request.model}",
             f"all rows: NMAD {head['nmad']:.5f}, η {head['eta']:.2%}, bias {head['bias']:.5f}",
             f"S/N ≥ {evaluation.SNR_USABLE:g} ({head['n_snr5']:,} rows): NMAD {head['nmad_snr5']:.5f}, "
             f"η {head['eta_snr5']:.2%}",
             f"ZWARN = 0 for {head['clean_fraction']:.1%} of rows (η among them {head['eta_clean']:.2%}); "
             "68 % intervals hold the truth for "
             f"{head['coverage_68']:.1%}" + (f"; PIT KS distance {head['pit_ks']:.3f}" if pit is not None else ""),
             f"η: fraction with |Δz|/(1+z) > {metrics.OUTLIER_THRESHOLD}; NMAD = 1.48 median |Δz|/(1+z); "
             "every row counts, flagged or not"]
    if "nmad_net" in head:
        lines.insert(2, f"the network alone (Z_NET): NMAD {head['nmad_net']:.5f}, η {head['eta_net']:.2%}")
    tables = {"Redshift by true z": (evaluation.redshift_by_z(cat, truth), evaluation.REDSHIFT_COLUMNS),
              "Redshift by measured S/N (SN_MEDIAN)": (evaluation.redshift_by_snr(cat, truth),
                                                       evaluation.REDSHIFT_COLUMNS)}
    if classes:
        tables["Spectral classes (rows: true class; as_*: the catalogue's SPECTYPE)"] = (classes,
                                                                                      evaluation.CLASS_COLUMNS)
    ism = evaluation.ism_table(cat, truth)
    if ism:
        tables["ISM properties"] = (ism, evaluation.ISM_TABLE_COLUMNS)
    if request.model and real_spectra.available():
        try:
            real = real_spectra_job.table(request.model)
            tables[REAL_SPECTRA_TITLE] = (real, real_judge.COLUMNS)
            lines.append(real_judge.summary(real) + " (storage/real_spectra.json)")
        except Exception as err:  # a section of the report, never the evaluation's failure
            lines.append(f"real spectra: not scored ({type(err).__name__}: {err})")
    return Report("spectroflow evaluation", lines, tables, paths), head
