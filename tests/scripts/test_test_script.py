"""scripts/test.sh: a filter that matches nothing fails instead of passing silently."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_filter_that_matches_no_test_fails():
    result = subprocess.run([str(ROOT / "scripts" / "test.sh"), "-k", "zz_no_test_has_this_name"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 5 and "no tests matched" in result.stderr
