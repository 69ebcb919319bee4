"""End to end: `spectroflow nightly` over three nights of real FITS files, with a real
Prefect API and LocalCluster; the combined catalogue grows night by night."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect_client import api, artifacts, flow_run, subflow_runs
from survey_files import desi_file, sdss_file

from pipeline.assess.zwarning import ZWarn
from storage import catalogue, ledger

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _nightly(incoming: Path, root: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "nightly", str(incoming / "*.fits"), "--root", str(root),
         "--settle", "0", "--chunk", "2", "--workers", "2"],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_three_nights_of_survey_files(prefect_api, tmp_path):
    incoming, root = tmp_path / "incoming", tmp_path / "nightly"
    incoming.mkdir()
    sdss_file(incoming / "spec-100.fits", 100)
    desi_file(incoming / "coadd-1.fits", (201, 202, 203))
    first = _nightly(incoming, root)
    assert "2 new file(s), 4 spectra, 0 file(s) quarantined" in first.stdout
    assert "combined catalogue: 4 rows" in first.stdout
    night1 = ledger.done_batches(str(root))[0]["name"]

    sdss_file(incoming / "spec-101.fits", 101)
    desi_file(incoming / "coadd-2.fits", (201, 301))  # target 201 observed again
    (incoming / "truncated.fits").write_bytes((incoming / "spec-100.fits").read_bytes()[:5000])
    second = _nightly(incoming, root)
    assert "3 new file(s), 3 spectra, 1 file(s) quarantined" in second.stdout and "truncated.fits" in second.stdout
    assert "combined catalogue: 7 rows (2 with a repeated TARGETID)" in second.stdout
    night2 = ledger.done_batches(str(root))[1]["name"]

    cat = catalogue.read(root / "catalogue")
    assert cat["TARGETID"].tolist() == [201, 202, 203, 100, 201, 301, 101]  # night by night, files sorted
    assert cat["BATCH"].tolist() == [night1] * 4 + [night2] * 3
    repeated = cat["ZWARN"] & int(ZWarn.DUPLICATE_TARGETID) != 0
    assert sorted(cat["TARGETID"][repeated].tolist()) == [201, 201]
    assert (root / "catalogue" / "catalogue.fits").exists()
    assert (root / "nights" / night2 / "catalogue" / "catalogue.parquet").exists()

    third = _nightly(incoming, root)  # nothing new: nothing redone
    assert "no new files" in third.stdout and "combined catalogue" not in third.stdout
    assert len(ledger.read_ledger(str(root))["batches"]) == 2

    (incoming / "empty.fits").write_bytes(b"not a FITS file")  # a night of nothing readable
    fourth = _nightly(incoming, root)
    assert "1 new file(s), 0 spectra, 1 file(s) quarantined" in fourth.stdout
    assert len(catalogue.read(root / "catalogue", ["TARGETID"])["TARGETID"]) == 7
    assert "no new files" in _nightly(incoming, root).stdout  # the bad file is not retried every night
    sdss_file(incoming / "spec-102.fits", 102)  # a later night: the empty batch is left out of the combination
    assert "combined catalogue: 8 rows" in _nightly(incoming, root).stdout

    # the second night's run as the UI shows it: its two subflows, its summary and the batches
    ingest = flow_run(f"ingest-{night2}")
    parent = api(lambda c: c.read_task_run(ingest.parent_task_run_id)).flow_run_id
    assert {run.name for run in subflow_runs(parent)} == {f"ingest-{night2}", f"score-{night2}"}
    assert all(run.state.is_completed() for run in subflow_runs(parent))
    found = artifacts(parent)
    assert f"batch {night2}" in found["nightly-summary"].data and "truncated.fits" in found["nightly-summary"].data
    assert "7 rows" in found["nightly-summary"].data
    assert [row["spectra"] for row in json.loads(found["nightly-batches"].data)] == [4, 3]
