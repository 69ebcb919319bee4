"""Real spectra as the judge, without Prefect: ingest the unpacked real spectra
(``storage.real_spectra``) into a survey store, score it with a model, and compare
each row's redshift with the published one (``pipeline.assess.real_spectra``).

The same ingest and score jobs as a survey (``flows/jobs/ingest.py``,
``flows/jobs/score.py``), in one process: five spectra take a few seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from flows.jobs.ingest import IngestRequest, fill_chunk, finish, index_files, prepare
from flows.jobs.score import ScoreRequest, merge, score_chunk
from pipeline.assess import real_spectra as judge
from pipeline.learn.training import read_card
from pipeline.sampling.grid import Z_MAX
from storage import catalogue, store
from storage import real_spectra as files


def score(model_dir: str, workdir, base: Path | None = None) -> tuple[list[files.RealSpectrum], dict, list[dict]]:
    """(the manifest's spectra, their catalogue columns in that order, the quarantine)
    after ingesting the unpacked files into ``<workdir>/real.zarr`` and scoring them
    with the model in ``model_dir`` into ``<workdir>/catalogue``. One store row per
    spectrum, matched to the manifest by TARGETID; a spectrum whose file was
    quarantined keeps its row (NODATA | BAD_INPUT), as in any ingest."""
    spectra = files.spectra(base)
    workdir = Path(workdir)
    request = IngestRequest(tuple(str(s.path) for s in spectra), str(workdir / "real.zarr"), chunk=len(spectra))
    results = [fill_chunk(request.out, i) for i in prepare(request, index_files(request.files), overwrite=True)]
    quarantined = finish(request.out, results)
    out = str(workdir / "catalogue")
    n, size = store.layout(request.out)
    for index in range(store.n_chunks(n, size)):
        score_chunk(request.out, model_dir, out, index)
    merge(ScoreRequest(request.out, model_dir, out))
    cat = catalogue.read(out)
    order = []
    for s in spectra:
        found = np.flatnonzero(cat["TARGETID"] == s.targetid)
        if len(found) != 1:
            raise ValueError(f"{s.id}: {len(found)} catalogue rows with TARGETID {s.targetid} (quarantine: "
                             f"{quarantined})")
        order.append(found[0])
    return spectra, {k: np.asarray(v)[order] for k, v in cat.items()}, quarantined


def table(model_dir: str, base: Path | None = None) -> list[dict]:
    """The per-spectrum comparison (``pipeline.assess.real_spectra.rows``) of the model
    in ``model_dir`` on the unpacked real spectra, scored in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="real-spectra-") as tmp:
        spectra, cat, _ = score(model_dir, tmp, base)
    z_range = read_card(model_dir).get("z_range", [0.0, Z_MAX])
    return judge.rows([s.id for s in spectra], [s.survey for s in spectra], [s.z for s in spectra],
                      cat["Z"], cat["ZWARN"], z_range)
