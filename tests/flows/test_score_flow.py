"""End to end: `spectroflow score` with a real Prefect API and LocalCluster."""

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from survey_files import desi_file, sdss_file

from flows.jobs.ingest import IngestRequest, fill_chunk, index_files, prepare
from flows.jobs.train import TrainRequest, run_training

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


def test_killed_score_run_resumes_to_the_same_catalogue(prefect_api, small_training_store, tmp_path):
    import signal
    import time

    from storage import catalogue

    model = tmp_path / "model"
    run_training(TrainRequest(small_training_store, out=str(model), max_epochs=1, limit=256), log=lambda m: None,
                 progress_bar=False)
    files = [sdss_file(tmp_path / f"s{i}.fits", 100 + i) for i in range(40)]
    request = IngestRequest(tuple(map(str, files)), str(tmp_path / "survey.zarr"), chunk=2)  # 20 chunks
    for index in prepare(request, index_files(request.files)):
        fill_chunk(request.out, index)

    def cli(out, **kw):
        return subprocess.Popen([sys.executable, "-m", "flows.cli", "score", "--store", request.out, "--model",
                                 str(model), "--out", str(out)], cwd=ROOT, env=os.environ.copy(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)

    whole = tmp_path / "whole"
    assert cli(whole).wait(timeout=600) == 0
    resumed = tmp_path / "resumed"
    proc = cli(resumed, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(catalogue.missing_parts(resumed, 20)) == 20 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    missing = catalogue.missing_parts(resumed, 20)
    assert 0 < len(missing) < 20 and not (resumed / "catalogue.parquet").exists()
    assert cli(resumed).wait(timeout=600) == 0
    a = pq.read_table(whole / "catalogue.parquet").to_pandas()
    b = pq.read_table(resumed / "catalogue.parquet").to_pandas()
    assert a.equals(b) and len(a) == 40
