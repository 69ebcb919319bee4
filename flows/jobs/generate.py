"""Generation glue without Prefect: what a generation run is, and one chunk's work.

Two kinds of store: a *training* store (noiseless model spectra + their noise model,
``storage.training_store``) and a simulated *survey* store (one noisy realisation in the
layout ``spectroflow ingest`` writes, ``storage.survey_store``, plus the truth) to score
and evaluate against.

``GenerateRequest`` describes a run; ``prepare`` checks it against the disk (and
creates the store template); ``fill_chunk`` renders and writes one chunk. The
Prefect flow (``flows.generate``) only fans ``fill_chunk`` out. Kept free of
``prefect`` so the CLI can validate a request before any server or cluster starts.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from flows.runtime.malloc import keep_freed_memory
from pipeline.physics.constants import FLUX_UNIT_TEXT
from pipeline.physics.instruments import get_instrument
from pipeline.physics.simulate import (
    PRESETS,
    chunk_params,
    label_names,
    noise_seed,
    noise_terms,
    preset_config,
    render_batches,
    simulate,
)
from storage import store, survey_store, training_store
from storage.provenance import code_version, dependency_versions

#: Spectra per chunk (= per task): ~1 s of work per task keeps Prefect's ~0.2 s
#: per-task cost small, and a chunk of float16 model flux is 168 MB in memory.
DEFAULT_CHUNK = 8192
#: Rows rendered at once inside a chunk: the fastest batch here (working set in cache).
RENDER_BATCH = 1024
#: Attributes that must match for a rerun to resume a store.
RESUME_KEYS = ("store", "generator", "code_version")
#: Store kind -> its storage module.
KINDS = {training_store.KIND: training_store, survey_store.KIND: survey_store}
#: Store kind -> the seed a run gets without ``--seed``. They differ, so a survey store
#: made with defaults never redraws a default training store's galaxies (the parameters
#: of chunk i come from SeedSequence([seed, i, 0]) whatever the kind); an explicit survey
#: seed equal to the training default is refused for the same reason, and
#: ``spectroflow evaluate`` refuses a survey drawn with its model's training seed.
DEFAULT_SEEDS = {training_store.KIND: 0, survey_store.KIND: 1000}


@dataclass(frozen=True)
class GenerateRequest:
    """One generation run: ``n`` spectra of ``preset`` into the store at ``out``."""

    out: str
    n: int
    chunk: int = DEFAULT_CHUNK
    seed: int | None = None  # None: DEFAULT_SEEDS[kind]
    preset: str = "default"
    instrument: str = "deimos"
    kind: str = training_store.KIND

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown store kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.n < 1:
            raise ValueError(f"--n must be at least 1, got {self.n}")
        if self.chunk < 1:
            raise ValueError(f"--chunk must be at least 1, got {self.chunk}")
        if self.seed is None:
            object.__setattr__(self, "seed", DEFAULT_SEEDS[self.kind])
        if self.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {self.seed}")
        if self.kind == survey_store.KIND and self.seed == DEFAULT_SEEDS[training_store.KIND]:
            raise ValueError(f"--seed {self.seed} is the default seed of training stores: a survey store drawn "
                             "with it would hold a default training store's galaxies; pass another --seed "
                             f"(or none: surveys default to {DEFAULT_SEEDS[survey_store.KIND]})")
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        self.instruments  # raises ValueError naming the choices

    @property
    def instruments(self) -> tuple:
        """The instruments, by name from ``instrument`` ("deimos" or e.g. "deimos,sdss,desi":
        chunk i is rendered for instrument i modulo their number)."""
        return tuple(get_instrument(name.strip()) for name in self.instrument.split(","))

    @property
    def chunk_size(self) -> int:
        """Spectra per chunk: ``chunk``, or ``n`` for a smaller run."""
        return min(self.chunk, self.n)

    @property
    def n_chunks(self) -> int:
        return store.n_chunks(self.n, self.chunk_size)

    def attrs(self) -> dict:
        """Store attributes: layout, generator settings, instrument and provenance."""
        prior, config = preset_config(self.preset, self.instruments[0])
        return {
            "store": {"kind": self.kind, "schema_version": KINDS[self.kind].SCHEMA_VERSION},
            "generator": {"n": self.n, "chunk": self.chunk_size, "seed": self.seed, "preset": self.preset,
                          "prior": prior, "noise": config.noise, "igm": config.igm, "rest_min": config.rest_min,
                          "artifacts": config.artifacts, "native": config.native,
                          "nebular_continuum": config.nebular_continuum,
                          "instrument": self.instrument, "render_batch": RENDER_BATCH},
            "instruments": [asdict(i) for i in self.instruments],
            "code_version": code_version(),
            "dependencies": dependency_versions(),
            "wavelength_frame": "vacuum",
            "flux_unit": FLUX_UNIT_TEXT,
            **({"ingest": {"simulated": True}} if self.kind == survey_store.KIND else {}),
        }


def check(request: GenerateRequest, overwrite: bool = False) -> str:
    """What a run would do ("create", "resume" or "complete"), touching nothing.

    Raises ValueError saying what to change for an unwritable path, a path that is
    not a store, or a store made with other settings.
    """
    return store.plan(request.out, request.attrs(), RESUME_KEYS, overwrite=overwrite, dry_run=True)


def prepare(request: GenerateRequest, overwrite: bool = False) -> list[int]:
    """Create the store template if needed; return the chunk indices still to write."""
    action = store.plan(request.out, request.attrs(), RESUME_KEYS, overwrite=overwrite)
    if action == "create":
        _create(request)
    else:
        store.remove_partial_files(request.out)
    return store.incomplete_chunks(request.out)


def _create(request: GenerateRequest) -> None:
    from pipeline.sampling.grid import model_grid

    grid = model_grid()
    if request.kind == survey_store.KIND:
        classes = "spectype" in chunk_params(0, 1, request.seed, request.preset, request.instruments[0])[0]
        store.create(request.out, {**survey_store.variables(), **survey_store.truth_variables(classes)},
                     {store.SPECTRUM: request.n, store.PIXEL: grid.n, survey_store.FILE: 1}, request.chunk_size,
                     request.attrs(), fixed={"wavelength": grid.wavelength, "file_path": np.array(["simulated"])})
        return
    configs = [chunk_params(0, 1, request.seed, request.preset, i) for i in request.instruments]
    terms = [noise_terms(config) for _, config in configs]
    store.create(
        request.out,
        training_store.variables(label_names(*configs[0])),
        {store.SPECTRUM: request.n, store.PIXEL: grid.n, training_store.INSTRUMENT: len(terms)},
        request.chunk_size,
        request.attrs(),
        fixed={"wavelength": grid.wavelength, "noise_sky": np.stack([t[0] for t in terms]),
               "noise_object": np.stack([t[1] for t in terms])},
    )


def fill_chunk(path: str, index: int) -> dict:
    """Render chunk ``index`` of the store at ``path`` (settings from its attributes),
    write it and record it complete. Idempotent: a rerun writes the same bytes.

    Returns {"chunk", "rows", "seconds", "checksum"}.
    """
    start = time.perf_counter()
    keep_freed_memory()  # batch-sized temporaries: reuse freed pages (flows/runtime/malloc.py)
    gen = store.read_attrs(path)["generator"]
    rows = store.chunk_rows(gen["n"], gen["chunk"], index)
    count = rows.stop - rows.start
    names = gen["instrument"].split(",")
    which = index % len(names)
    params, config = chunk_params(index, count, gen["seed"], gen["preset"], get_instrument(names[which]))
    if store.read_attrs(path)["store"]["kind"] == survey_store.KIND:
        arrays = _survey_chunk(params, config, noise_seed(gen["seed"], index), rows)
    else:
        arrays = _training_chunk(params, config, gen["render_batch"], rows, which)
    crc = store.write_chunk(path, index, arrays)
    store.mark_complete(path, index, crc)
    return {"chunk": index, "rows": count, "seconds": time.perf_counter() - start, "checksum": crc}


def _training_chunk(params, config, render_batch: int, rows: slice, which: int) -> dict[str, np.ndarray]:
    """A training-store chunk: noiseless model spectra and their noise model."""
    arrays = None
    for batch, rendered in render_batches(params, config, render_batch):
        if arrays is None:
            arrays = training_store.empty_chunk(rows.stop - rows.start, rendered.model.shape[1],
                                                label_names(params, config))
        training_store.fill(arrays, batch, rendered, rows.start, which)
    return arrays


def _survey_chunk(params, config, seed, rows: slice) -> dict[str, np.ndarray]:
    """A simulated survey-store chunk: one noisy realisation, as ingest stores it, plus the truth."""
    spectra = simulate(params, config, seed)
    ids = np.arange(rows.start, rows.stop)
    return {**survey_store.pack(spectra.flux, spectra.ivar), "targetid": ids, "source_file": np.zeros(len(ids)),
            "source_row": ids, "zwarn_input": np.zeros(len(ids)),
            **{f"true_{k}": np.asarray(spectra.labels[k], np.float32) for k in survey_store.TRUTH + survey_store.CLASS_TRUTH
               if k in spectra.labels}}
