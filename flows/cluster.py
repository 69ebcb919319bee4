"""Dask cluster factory: which Dask cluster a flow's tasks run on.

``--cluster`` (or SPECTROFLOW_CLUSTER) takes one of:

* nothing / ``local``: a ``distributed.LocalCluster`` of ``workers`` processes,
  one thread each (the physics is numpy, single-threaded; processes avoid the GIL);
* ``tcp://host:8786`` (any scheduler address): an existing cluster. Its workers
  need this package installed and ``PREFECT_API_URL`` in their environment;
* a YAML file (see ``deploy/dask/``) naming a cluster class and its arguments,
  e.g. ``dask_jobqueue.SLURMCluster`` or ``dask_kubernetes.operator.KubeCluster``::

      class: dask_jobqueue.SLURMCluster
      kwargs: {cores: 8, processes: 8, memory: 32GB, walltime: "02:00:00"}
      adapt: {minimum: 0, maximum: 20}     # or  scale: 4

Returns a ``prefect_dask.DaskTaskRunner``; the runner starts and stops the cluster
around the flow run (an existing scheduler is left running).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path

from pipeline import malloc

#: Where a local cluster serves its dashboard (distributed picks a free port if taken).
DASHBOARD_ADDRESS = "127.0.0.1:8787"


def task_runner_options(spec: str | None, workers: int) -> dict:
    """Keyword arguments of ``DaskTaskRunner`` for a cluster spec (see module doc)."""
    spec = spec or os.environ.get("SPECTROFLOW_CLUSTER") or "local"
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if spec == "local":
        return {
            "cluster_class": "distributed.LocalCluster",
            "cluster_kwargs": {"n_workers": workers, "threads_per_worker": 1, "processes": True,
                               "dashboard_address": None},
        }
    if "://" in spec:
        return {"address": spec}
    return _from_file(Path(spec))


def _from_file(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise ValueError(f"cluster spec {path}: not 'local', a scheduler address (tcp://...) or a YAML file")
    spec = yaml.safe_load(path.read_text()) or {}
    if "class" not in spec:
        raise ValueError(f"cluster spec {path}: needs a 'class' key, e.g. dask_jobqueue.SLURMCluster")
    module, _, name = spec["class"].rpartition(".")
    try:
        getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cluster spec {path}: cannot import {spec['class']} ({err}); install its package") from err
    options = {"cluster_class": spec["class"], "cluster_kwargs": spec.get("kwargs", {})}
    if "adapt" in spec:
        options["adapt_kwargs"] = spec["adapt"]
    elif "scale" in spec:
        options["cluster_kwargs"] = {**options["cluster_kwargs"], "n_workers": spec["scale"]}
    return options


def task_runner(spec: str | None = None, workers: int = 2):
    """A ``DaskTaskRunner`` for ``spec`` (see module doc)."""
    from prefect_dask import DaskTaskRunner

    options = task_runner_options(spec, workers)
    if options.get("cluster_class") == "distributed.LocalCluster":
        spawn_workers_with(malloc.ENVIRONMENT)
    return DaskTaskRunner(**options)


def spawn_workers_with(environment: dict[str, str]) -> None:
    """Worker processes that this process's nannies spawn from now on get ``environment``
    (set before the spawn: glibc reads its tunables at process start, pipeline/malloc.py)."""
    import dask

    key = "distributed.nanny.pre-spawn-environ"
    dask.config.set({key: {**dask.config.get(key, {}), **environment}})


def is_local(spec: str | None) -> bool:
    """True for the embedded default: a LocalCluster on this machine."""
    return (spec or os.environ.get("SPECTROFLOW_CLUSTER") or "local") == "local"


@contextlib.contextmanager
def local_cluster(workers: int = 2, log=print):
    """A LocalCluster of ``workers`` one-thread processes for the duration of the block;
    prints its dashboard address and yields its scheduler address (pass it as the
    flows' ``cluster``, so several flows share one cluster and one dashboard)."""
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    from distributed import LocalCluster

    spawn_workers_with(malloc.ENVIRONMENT)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=DASHBOARD_ADDRESS) as cluster:
        log(f"Dask dashboard: {cluster.dashboard_link}  ({workers} workers, scheduler {cluster.scheduler_address})")
        yield cluster.scheduler_address


@contextlib.contextmanager
def cluster_for(spec: str | None, workers: int, log=print):
    """The cluster spec the flows should use: for the embedded default, the address of
    a LocalCluster started here (its dashboard printed); any other spec unchanged."""
    if is_local(spec):
        with local_cluster(workers, log) as address:
            yield address
    else:
        yield spec
