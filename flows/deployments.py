"""The flows as deployments run them (entrypoints of ``deploy/prefect.yaml``).

A deployment run imports its flow in a fresh process on a worker and runs it with
the flow's own task runner, so here the chunked flows carry a Dask runner chosen by
the environment of that process: SPECTROFLOW_CLUSTER (a name from
``deploy/dask/clusters.yaml``, a scheduler address, or ``local``) and
SPECTROFLOW_WORKERS (local workers, default 2), set per work pool or per deployment
as job variables. ``train`` runs in the flow-run process (all its cores; CUDA on a
``gpu`` pool's machine) unless SPECTROFLOW_CLUSTER names a cluster: then its task goes
to that cluster, to a GPU worker when one advertises ``GPU``. ``evaluate`` keeps
Prefect's default runner; ``survey`` and ``nightly`` pass the cluster (the same
environment, when their ``cluster`` parameter is unset) to their subflows themselves.
"""

from __future__ import annotations

import os

from flows.evaluate import evaluate
from flows.generate import generate as _generate
from flows.ingest import ingest as _ingest
from flows.nightly import nightly

# Absolute imports: Prefect loads an entrypoint by file path, outside the package.
from flows.runtime.cluster import default_workers, is_local, task_runner
from flows.score import score as _score
from flows.survey import survey as _survey
from flows.train import train as _train


def _runner():
    return task_runner(os.environ.get("SPECTROFLOW_CLUSTER"), default_workers())


generate = _generate.with_options(task_runner=_runner())
ingest = _ingest.with_options(task_runner=_runner())
score = _score.with_options(task_runner=_runner())
survey = _survey
train = _train if is_local(os.environ.get("SPECTROFLOW_CLUSTER")) else _train.with_options(task_runner=_runner())

__all__ = ["evaluate", "generate", "ingest", "nightly", "score", "survey", "train"]
