"""End to end: `spectroflow ingest` on real FITS files with a real Prefect API and LocalCluster."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from survey_files import desi_file, sdss_file

from flows.jobs.ingest import quarantine
from storage import store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_ingest_cli_writes_a_verified_store_and_quarantines_bad_files(prefect_api, tmp_path):
    files = [sdss_file(tmp_path / f"spec-{i}.fits", 100 + i) for i in range(4)]
    files.append(desi_file(tmp_path / "coadd.fits", (201, 202, 203)))
    (tmp_path / "truncated.fits").write_bytes(files[0].read_bytes()[:5000])
    out = tmp_path / "survey.zarr"
    cmd = [sys.executable, "-m", "flows.cli", "ingest", *map(str, files), str(tmp_path / "truncated.fits"),
           "--out", str(out), "--chunk", "3", "--workers", "2"]
    result = subprocess.run(cmd, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ingested 7 spectra" in result.stdout and "1 file(s) quarantined" in result.stdout
    assert "truncated.fits" in quarantine(out)[0]["error"]
    assert store.verify(out).ok
    assert store.open_dataset(out)["targetid"].values.tolist() == [100, 101, 102, 103, 201, 202, 203]
    again = subprocess.run(cmd, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "already complete" in again.stdout
