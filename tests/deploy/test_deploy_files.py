"""deploy/ is valid: the Prefect project file, the named clusters, the container file."""

import inspect
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
#: Values for the ${VARIABLES} of deploy/dask/clusters.yaml.
SITE = {"SPECTROFLOW_SCHEDULER_ADDRESS": "tcp://127.0.0.1:8786", "SLURM_ACCOUNT": "astro",
        "SPECTROFLOW_HOME": "/opt/spectroflow", "PREFECT_API_URL": "http://prefect:4200/api",
        "SPECTROFLOW_IMAGE": "registry.example/spectroflow:cpu",
        "SPECTROFLOW_GPU_IMAGE": "registry.example/spectroflow:cuda"}


@pytest.fixture
def site(monkeypatch):
    monkeypatch.delenv("SPECTROFLOW_CLUSTERS", raising=False)
    for key, value in SITE.items():
        monkeypatch.setenv(key, value)


def _deployments():
    return yaml.safe_load((DEPLOY / "prefect.yaml").read_text())["deployments"]


def test_every_deployment_names_a_flow_and_parameters_it_takes():
    import importlib

    names = set()
    for deployment in _deployments():
        path, _, attribute = deployment["entrypoint"].partition(":")
        assert (ROOT / path).is_file()
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, attribute)
        accepted = inspect.signature(flow.fn).parameters
        assert set(deployment.get("parameters", {})) <= set(accepted), deployment["name"]
        required = {n for n, p in accepted.items() if p.default is inspect.Parameter.empty}
        assert required <= set(deployment.get("parameters", {})), deployment["name"]
        assert deployment["work_pool"]["name"] in {"cpu", "gpu"}
        names.add(flow.name)
    assert names == {"generate", "train", "ingest", "nightly", "score", "evaluate", "survey"}


def test_training_and_gpu_scoring_go_to_the_gpu_pool_and_nightly_runs_are_scheduled():
    pools = {d["name"]: d["work_pool"]["name"] for d in _deployments()}
    assert pools["train"] == "gpu" and pools["score-gpu"] == "gpu" and pools["nightly"] == "cpu"
    crons = {d["name"]: [s["cron"] for s in d.get("schedules", [])] for d in _deployments()}
    assert crons == {"generate": [], "train": [], "nightly": ["0 3 * * *"], "ingest": [], "score": [],
                     "score-gpu": [], "evaluate": [], "survey": []}


def test_named_clusters_resolve_to_runner_options(site):
    from flows.runtime.cluster import named_clusters, task_runner_options

    assert {"address", "slurm", "slurm-gpu", "kubernetes", "kubernetes-gpu"} <= set(named_clusters())
    assert task_runner_options("address", 2) == {"address": "tcp://127.0.0.1:8786"}
    slurm = task_runner_options("slurm", 2)
    assert slurm["cluster_class"] == "dask_jobqueue.SLURMCluster" and slurm["adapt_kwargs"] == {"minimum": 0,
                                                                                                "maximum": 8}
    assert task_runner_options("local", 3)["cluster_kwargs"]["n_workers"] == 3


def test_a_named_cluster_says_which_variables_to_set(monkeypatch):
    from flows.runtime.cluster import task_runner_options

    monkeypatch.delenv("SPECTROFLOW_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(ValueError, match="cluster 'address'.*set SPECTROFLOW_SCHEDULER_ADDRESS"):
        task_runner_options("address", 2)
    with pytest.raises(ValueError, match="address, kubernetes, kubernetes-gpu, slurm, slurm-gpu"):
        task_runner_options("no-such-cluster", 2)


@pytest.mark.parametrize("name, gpu", [("slurm", False), ("slurm-gpu", True)])
def test_slurm_specs_construct_their_cluster_and_job_script_without_submitting(site, name, gpu):
    from dask_jobqueue import SLURMCluster

    from flows.runtime.cluster import named_clusters

    kwargs = named_clusters()[name]["kwargs"]
    cluster = SLURMCluster(**kwargs, scheduler_options={"host": "127.0.0.1"})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -A astro" in script and "source /opt/spectroflow/.venv/bin/activate" in script
    assert ("#SBATCH --gres=gpu:1" in script and "--resources GPU=1" in script) == gpu


@pytest.mark.parametrize("name, gpu", [("kubernetes", False), ("kubernetes-gpu", True)])
def test_kubernetes_specs_construct_their_cluster_spec_without_submitting(site, name, gpu):
    from dask_kubernetes.operator import make_cluster_spec

    from flows.runtime.cluster import named_clusters

    kwargs = named_clusters()[name]["kwargs"]
    spec = make_cluster_spec(**kwargs)
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    assert spec["kind"] == "DaskCluster" and spec["metadata"]["name"] == kwargs["name"]
    assert worker["image"] == kwargs["image"]
    assert {"name": "PREFECT_API_URL", "value": "http://prefect:4200/api"} in worker["env"]
    assert ("nvidia.com/gpu" in worker["resources"]["limits"] and "GPU=1" in " ".join(worker["args"])) == gpu


def test_the_container_file_copies_what_exists_and_pins_what_setup_pins():
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    lines = [l for l in re.sub(r"\\\n", " ", dockerfile).splitlines() if l.strip() and not l.startswith("#")]
    known = {"FROM", "ARG", "ENV", "WORKDIR", "RUN", "COPY", "CMD"}
    assert {l.split()[0] for l in lines} <= known and lines[0].startswith("FROM python:3.11")
    for line in lines:
        if line.startswith("COPY"):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    for pin in re.findall(r'"((?:torch|pypeit)==[\d.]+)"', setup):
        assert pin in dockerfile
    assert "TORCH_INDEX" in (DEPLOY / "docker" / "build.sh").read_text()
