"""What several commands share: options defined once, and running a flow against the Prefect server.

Nothing here imports Prefect at import time: ``--help`` stays fast, and bad input
fails before any server starts.
"""

from __future__ import annotations

import sys

from pipeline.learn import weights

#: The exit status after Ctrl-C (128 + SIGINT), as a shell reports it.
INTERRUPTED = 130


def add_preset(parser) -> None:
    """``--preset``: the simulation preset."""
    parser.add_argument("--preset", choices=list(PRESETS), default="default",
                        help="default: galaxies; survey: galaxies, quasars, stars and sky fibres in survey "
                             "proportions; thesis: the thesis's grid and noise")


def add_chunk(parser, default: int) -> None:
    """``--chunk``; ``default`` is only shown: the job fills in its own default for None."""
    parser.add_argument("--chunk", type=int, default=None, help=f"spectra per chunk and per task (default {default})")


#: ``--preset`` choices: ``simulate.PRESETS``, spelled out here so ``--help`` stays fast
#: (tests/flows/test_cli.py checks that the two agree).
PRESETS = ("default", "survey", "thesis")

#: ``--format`` choices: ``storage.readers.FORMATS``, spelled out here so ``--help`` does
#: not import astropy (tests/flows/test_cli.py checks that the two agree).
FORMATS = ("auto", "sdss", "desi", "eso", "table")


def add_format(parser) -> None:
    """``--format``: the kind of survey FITS files."""
    parser.add_argument("--format", choices=FORMATS, default="auto",
                        help="auto (default: detected per file), sdss (spec/spec-lite), desi (coadd), "
                             "eso (ESO Phase 3 1-D spectrum) or table (1-D spectrum table)")


def add_model(parser, help_text: str = "as for score") -> None:
    """``--model``: a model directory or a shipped model, the shipped default if not given."""
    parser.add_argument("--model", default=weights.DEFAULT, help=help_text)


def add_workers(parser, help_text: str | None = None) -> None:
    """``--workers``: Dask worker processes."""
    parser.add_argument("--workers", type=int, default=2, help=help_text)


def add_cluster(parser, help_text: str = "as for generate") -> None:
    """``--cluster``: where the Dask workers run."""
    parser.add_argument("--cluster", default=None, help=help_text)


def with_prefect(banner: str, flow, on_interrupt: str):
    """Start or find the Prefect server, print its URL and ``banner``, then call
    ``flow()`` reporting to it. Returns its result, or None after Ctrl-C."""
    from flows.runtime.server import ensure_server, ui_url

    api = ensure_server()
    print(f"Prefect UI: {ui_url(api)}  ({banner})")
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}):
        try:
            return flow()
        except KeyboardInterrupt:
            print(f"\ninterrupted: {on_interrupt}", file=sys.stderr)
            return None
