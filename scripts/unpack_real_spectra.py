"""Get the real spectra of storage/real_spectra.json: set-up time only.

    python scripts/unpack_real_spectra.py [--root data/real_spectra]

For each pinned wheel of the manifest: ``pip download`` it (no dependencies) into
``<root>/wheels/`` unless a copy with the manifest's sha256 is there, check its sha256,
and unzip just the listed files to ``<root>/<package>-<version>/<path in wheel>``,
checking each file's sha256. Idempotent: with every file present and intact it does
nothing (and needs no registry). Exits 1 with a clear message when the registry
cannot be reached or a checksum differs; project code never downloads anything.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import real_spectra  # noqa: E402


def fetch_wheel(wheel: dict, folder: Path) -> Path:
    """The wheel file, downloaded with pip if absent or different; sha256 checked."""
    path = folder / wheel["filename"]
    if path.is_file() and real_spectra.sha256(path) == wheel["sha256"]:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    spec = f"{wheel['package']}=={wheel['version']}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "--timeout", "30", "--retries", "2", "-d", str(folder), spec]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"unpack_real_spectra: cannot download {spec} from the package registry "
                         f"(offline or unreachable?):\n" + "\n".join(done.stderr.strip().splitlines()[-3:]) + "\n"
                         "The real-spectra tests and benchmark are skipped until this succeeds.")
    if not path.is_file():
        raise SystemExit(f"unpack_real_spectra: pip downloaded {spec} but not {wheel['filename']}")
    found = real_spectra.sha256(path)
    if found != wheel["sha256"]:
        raise SystemExit(f"unpack_real_spectra: {path} has sha256 {found}, the manifest pins {wheel['sha256']}")
    return path


def unpack(base: Path) -> list[Path]:
    """Unpack every manifest file under ``base``; returns the files written."""
    man = real_spectra.manifest()
    todo = real_spectra.missing(base, man)
    if not todo:
        return []
    wheels = {w["package"]: w for w in man["wheels"]}
    written = []
    for package in sorted({f["package"] for f in man["files"]
                           if real_spectra.local_path(f["package"], f["path"], base, man) in todo}):
        wheel = fetch_wheel(wheels[package], base / "wheels")
        with zipfile.ZipFile(wheel) as zf:
            for f in (f for f in man["files"] if f["package"] == package):
                target = real_spectra.local_path(package, f["path"], base, man)
                if target not in todo:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".partial")
                tmp.write_bytes(zf.read(f["path"]))
                if (found := real_spectra.sha256(tmp)) != f["sha256"]:
                    tmp.unlink()
                    raise SystemExit(f"unpack_real_spectra: {f['path']} in {wheel.name} has sha256 {found}, "
                                     f"the manifest pins {f['sha256']}")
                tmp.replace(target)
                written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=real_spectra.root(),
                        help="folder to unpack into (default: $SPECTROFLOW_REAL_SPECTRA or data/real_spectra)")
    args = parser.parse_args(argv)
    written = unpack(args.root)
    n = len(real_spectra.manifest()["spectra"])
    print(f"real spectra: {n} spectra under {args.root}" + (f" ({len(written)} files unpacked)" if written
                                                            else " (all present)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
