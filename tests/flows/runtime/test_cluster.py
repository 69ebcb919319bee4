"""Cluster specs: local by default, an address, or a YAML file naming a cluster class."""

import pytest

from flows.runtime.cluster import task_runner, task_runner_options


def test_local_is_the_default(monkeypatch):
    monkeypatch.delenv("SPECTROFLOW_CLUSTER", raising=False)
    options = task_runner_options(None, 3)
    assert options["cluster_class"] == "distributed.LocalCluster"
    assert options["cluster_kwargs"]["n_workers"] == 3
    assert options["cluster_kwargs"]["threads_per_worker"] == 1


def test_an_address_means_an_existing_scheduler():
    assert task_runner_options("tcp://10.0.0.5:8786", 2) == {"address": "tcp://10.0.0.5:8786"}


def test_yaml_spec_names_the_class_and_its_arguments(tmp_path):
    spec = tmp_path / "cluster.yaml"
    spec.write_text("class: distributed.LocalCluster\nkwargs: {threads_per_worker: 1}\nadapt: {minimum: 1, maximum: 4}\n")
    options = task_runner_options(str(spec), 2)
    assert options == {"cluster_class": "distributed.LocalCluster", "cluster_kwargs": {"threads_per_worker": 1},
                       "adapt_kwargs": {"minimum": 1, "maximum": 4}}
    assert task_runner(str(spec)).cluster_kwargs == {"threads_per_worker": 1}


@pytest.mark.parametrize("text, message", [
    ("kwargs: {}\n", "needs a 'class' key"),
    ("class: dask_nosuch.SLURMCluster\n", "cannot import dask_nosuch.SLURMCluster"),
])
def test_bad_yaml_specs_say_what_is_wrong(tmp_path, text, message):
    spec = tmp_path / "cluster.yaml"
    spec.write_text(text)
    with pytest.raises(ValueError, match=message):
        task_runner_options(str(spec), 2)


def test_unknown_spec_and_bad_worker_count():
    with pytest.raises(ValueError, match="not 'local', a scheduler address"):
        task_runner_options("no-such-file.yaml", 2)
    with pytest.raises(ValueError, match="--workers must be at least 1"):
        task_runner_options("local", 0)


def test_local_workers_start_with_the_malloc_environment():
    """glibc reads MALLOC_ARENA_MAX at process start: the nanny must set it before spawning."""
    import os

    import dask
    from distributed import Client, LocalCluster

    from flows.runtime.malloc import ENVIRONMENT

    with dask.config.set({}):  # undo the global change afterwards
        task_runner("local")
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            seen = next(iter(client.run(lambda: {k: os.environ.get(k) for k in ENVIRONMENT}).values()))
    assert seen == ENVIRONMENT
