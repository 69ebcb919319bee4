"""Survey-run glue without Prefect: what a survey run is, where its products live,
and how its summary reads. Kept free of ``prefect`` so the CLI can check a request
before any server or cluster starts (Prefect reads its settings at import)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.jobs.generate import DEFAULT_CHUNK, GenerateRequest, check

#: Instruments the chunks of both stores cycle through: varied coverage.
INSTRUMENTS = "deimos,sdss,desi"


@dataclass(frozen=True)
class SurveyLayout:
    """Where each product of a survey run lives under ``root``."""

    root: str

    @property
    def training_store(self) -> str:
        return str(Path(self.root, "train.zarr"))

    @property
    def model(self) -> str:
        return str(Path(self.root, "model"))

    @property
    def survey_store(self) -> str:
        return str(Path(self.root, "survey.zarr"))

    @property
    def catalogue(self) -> str:
        return str(Path(self.root, "catalogue"))

    @property
    def report(self) -> str:
        return str(Path(self.catalogue, "report"))


@dataclass(frozen=True)
class SurveyRequest:
    """One survey run: sizes, the training budget, seeds (the survey store's differs)."""

    root: str = "data/demo"
    train_n: int = 65_536
    survey_n: int = 32_768
    train_minutes: float = 10.0
    chunk: int = DEFAULT_CHUNK
    seed: int = 1
    fresh: bool = False
    #: Simulation preset of both stores (``simulate.PRESETS``).
    preset: str = "survey"

    @property
    def layout(self) -> SurveyLayout:
        return SurveyLayout(self.root)

    def stores(self) -> tuple[GenerateRequest, GenerateRequest]:
        """(training store, survey store) requests: same prior, different seeds."""
        return (GenerateRequest(self.layout.training_store, self.train_n, self.chunk, self.seed, self.preset,
                                INSTRUMENTS),
                GenerateRequest(self.layout.survey_store, self.survey_n, self.chunk, self.seed + 1000, self.preset,
                                INSTRUMENTS, kind="survey"))

    def check(self) -> None:
        """Fail before anything starts: bad numbers, stores made with other settings."""
        if self.train_minutes <= 0:
            raise ValueError(f"--train-minutes must be positive, got {self.train_minutes}")
        Path(self.root).mkdir(parents=True, exist_ok=True)
        for request in self.stores():
            check(request, overwrite=self.fresh)


def stage_rates(summary: dict) -> list[dict]:
    """Per stage: seconds, spectra handled and spectra/s ("reused" where the stage found
    its product complete), from a ``survey`` summary."""
    counts = {"generate_training": summary["generate_training"].get("written_spectra", 0),
              "train": _trained_spectra(summary["train"]),
              "generate_survey": summary["generate_survey"].get("written_spectra", 0),
              "score": summary["score"].get("scored_now", 0),
              "evaluate": summary["evaluate"].get("n", 0)}
    return [{"stage": name, "seconds": round(s, 1), "spectra": counts[name],
             "spectra_per_s": round(counts[name] / s) if s > 0 and counts[name] else "reused"}
            for name, s in summary["seconds"].items()]


def _trained_spectra(card: dict) -> int:
    """Spectra passed through the network in training: epochs x training split (the last
    epoch may have been cut by the time budget); 0 for a reused model."""
    if card.get("reused"):
        return 0
    return int(card.get("epochs", 0) * card.get("train_split_size", 0))
