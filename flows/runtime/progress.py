"""Progress of a fanned-out flow, shown three ways: a terminal bar (tqdm), a
Prefect progress artifact (the UI's run page) and a log line every ~10 %."""

from __future__ import annotations

import sys
import time

from prefect import get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import as_completed
from tqdm import tqdm

#: Seconds between updates of the UI artifact (each is an API call).
ARTIFACT_INTERVAL_S = 2.0


class Progress:
    """Counts finished units (chunks) and the items (spectra) they held."""

    def __init__(self, total: int, done: int, unit: str, bar: bool = True):
        self.total, self.done, self.unit = total, done, unit
        self.items, self.start = 0, time.perf_counter()
        self.logger = get_run_logger()
        self.bar = tqdm(total=total, initial=done, unit=unit, file=sys.stderr, disable=not bar,
                        dynamic_ncols=True, smoothing=0.1)
        self.artifact = create_progress_artifact(self.percent, description=f"{unit} done of {total}")
        self.logger.info(f"{total - done} of {total} {unit} to do ({done} already complete)")
        self._last_update, self._last_decile = time.monotonic(), self.percent // 10

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0

    @property
    def rate(self) -> float:
        """Items per second since the start."""
        return self.items / max(time.perf_counter() - self.start, 1e-9)

    def advance(self, items: int = 0) -> None:
        self.done += 1
        self.items += items
        self.bar.set_postfix_str(f"{self.rate:,.0f} spectra/s", refresh=False)
        self.bar.update(1)
        if time.monotonic() - self._last_update > ARTIFACT_INTERVAL_S:
            self._update_artifact()
        if self.percent // 10 > self._last_decile:
            self._last_decile = self.percent // 10
            self.logger.info(f"{self.done}/{self.total} {self.unit} ({self.percent:.0f} %), {self.rate:,.0f} spectra/s")

    def close(self) -> None:
        self._update_artifact()
        self.bar.close()

    def _update_artifact(self) -> None:
        update_progress_artifact(self.artifact, self.percent)
        self._last_update = time.monotonic()


def collect(futures: dict, progress: Progress) -> tuple[list[dict], dict[int, str]]:
    """Results of chunk futures ({future: chunk index}) as they finish, advancing
    ``progress`` by each result's "rows"; a failed chunk is recorded, not raised, so
    the others complete (a rerun retries it). Returns (results, {chunk: error})."""
    results, failed = [], {}
    for future in as_completed(list(futures)):
        try:
            result = future.result()
        except Exception as err:  # keep the other chunks
            failed[futures[future]] = f"{type(err).__name__}: {err}"
            continue
        results.append(result)
        progress.advance(items=result["rows"])
    progress.close()
    return results, failed
