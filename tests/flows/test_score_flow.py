"""End to end: `spectroflow score` with a real Prefect API and LocalCluster."""

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from flows.ingestion import IngestRequest, fill_chunk, index_files, prepare
from flows.training_run import TrainRequest, run_training
from survey_files import desi_file, sdss_file

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_score_cli_writes_the_catalogue(prefect_api, small_training_store, tmp_path):
    model = tmp_path / "model"
    run_training(TrainRequest(small_training_store, out=str(model), max_epochs=1, limit=256), log=lambda m: None,
                 progress_bar=False)
    files = [sdss_file(tmp_path / f"s{i}.fits", 10 + i) for i in range(3)] + [desi_file(tmp_path / "d.fits")]
    request = IngestRequest(tuple(map(str, files)), str(tmp_path / "survey.zarr"), chunk=2)
    for index in prepare(request, index_files(request.files)):
        fill_chunk(request.out, index)
    out = tmp_path / "catalogue"
    result = subprocess.run([sys.executable, "-m", "flows.cli", "score", "--store", request.out, "--model", str(model),
                             "--out", str(out)], cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "catalogue of 5 rows" in result.stdout and "ZWARN:" in result.stdout
    assert pq.read_table(out / "catalogue.parquet").column("TARGETID").to_pylist() == [10, 11, 12, 39627, 39628]
    assert (out / "catalogue.fits").exists()
