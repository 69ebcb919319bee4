"""Dask cluster factory: which Dask cluster a flow's tasks run on.

``--cluster`` (or SPECTROFLOW_CLUSTER) takes one of:

* nothing / ``local``: a ``distributed.LocalCluster`` of ``workers`` processes,
  one thread each (the physics is numpy, single-threaded; processes avoid the GIL);
* ``tcp://host:8786`` (any scheduler address): an existing cluster. Its workers
  need this package installed and ``PREFECT_API_URL`` in their environment;
* a name from the cluster configuration, ``deploy/dask/clusters.yaml`` (or the file
  SPECTROFLOW_CLUSTERS names): ``address``, ``slurm``, ``slurm-gpu``, ``kubernetes``,
  ``kubernetes-gpu``, or any entry a site adds; ``${VARIABLES}`` in it come from the
  environment;
* a YAML file holding one such entry: a cluster class and its arguments,
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

from flows.runtime import malloc

#: Where a local cluster serves its dashboard (distributed picks a free port if taken).
DASHBOARD_ADDRESS = "127.0.0.1:8787"
#: The named clusters of the checkout (SPECTROFLOW_CLUSTERS overrides).
CLUSTERS_FILE = Path(__file__).resolve().parents[2] / "deploy" / "dask" / "clusters.yaml"


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
    named = named_clusters()
    if spec in named:
        return _from_spec(named[spec], f"cluster {spec!r} ({clusters_file()})")
    if Path(spec).is_file():
        return _from_spec(_load_yaml(Path(spec)), f"cluster spec {spec}")
    raise ValueError(f"cluster spec {spec}: not 'local', a scheduler address (tcp://...), a YAML file or a "
                     f"name from {clusters_file()} ({', '.join(sorted(named)) or 'none'})")


def clusters_file() -> Path:
    return Path(os.environ.get("SPECTROFLOW_CLUSTERS") or CLUSTERS_FILE)


def named_clusters() -> dict[str, dict]:
    """The named cluster entries (name -> spec dict), ``${VARIABLES}`` expanded; {} if
    the file does not exist."""
    path = clusters_file()
    return _load_yaml(path) if path.is_file() else {}


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        return yaml.safe_load(os.path.expandvars(path.read_text())) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML ({err})") from err


def _unset_variables(value) -> list[str]:
    """The ``${NAME}`` placeholders left in a spec (environment variables not set)."""
    import re

    return sorted(set(re.findall(r"\$\{(\w+)\}", repr(value))))


def _from_spec(spec: dict, where: str) -> dict:
    unset = _unset_variables(spec)
    if unset:
        raise ValueError(f"{where}: set {', '.join(unset)} in the environment")
    if "address" in spec:
        return {"address": spec["address"]}
    if "class" not in spec:
        raise ValueError(f"{where}: needs a 'class' key, e.g. dask_jobqueue.SLURMCluster, or an 'address'")
    module, _, name = spec["class"].rpartition(".")
    try:
        getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"{where}: cannot import {spec['class']} ({err}); install its package") from err
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
    (set before the spawn: glibc reads its tunables at process start, flows/runtime/malloc.py)."""
    import dask

    key = "distributed.nanny.pre-spawn-environ"
    dask.config.set({key: {**dask.config.get(key, {}), **environment}})


def default_workers() -> int:
    """Local workers when a run does not say: SPECTROFLOW_WORKERS, else 2."""
    return int(os.environ.get("SPECTROFLOW_WORKERS", "2"))


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


def gpu_annotation():
    """``dask.annotate(resources={"GPU": 1})`` when the running flow's tasks go to a Dask
    cluster that has GPU workers (started with ``--resources GPU=1``); nothing otherwise
    (the task then runs wherever the runner puts it). Client.submit merges the active
    annotations, so the tasks submitted inside the block wait for a GPU worker."""
    client = _flow_dask_client()
    if client is None:
        return contextlib.nullcontext()
    workers = client.scheduler_info().get("workers", {}).values()
    if any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers):
        import dask

        return dask.annotate(resources={"GPU": 1})
    return contextlib.nullcontext()


def _flow_dask_client():
    """The Dask client of the running flow's task runner (prefect-dask does not make
    it the global default client), or None when the flow does not run on Dask."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    runner = getattr(context, "task_runner", None) if context else None
    try:
        return getattr(runner, "client", None)
    except RuntimeError:  # a DaskTaskRunner that has not started
        return None
