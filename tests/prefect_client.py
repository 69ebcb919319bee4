"""Reading the test Prefect server through its API (tests of the flows and deployments)."""

import asyncio


def api(call):
    """The result of ``await call(client)`` with a Prefect client of PREFECT_API_URL."""
    from prefect.client.orchestration import get_client

    async def main():
        async with get_client() as client:
            return await call(client)

    return asyncio.run(main())


def flow_run(name: str):
    """The flow run named ``name`` (the newest, if several)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    runs = api(lambda c: c.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])),
                                          sort=FlowRunSort.EXPECTED_START_TIME_DESC))
    assert len(runs) >= 1, f"no flow run named {name}"
    return runs[0]


def subflow_runs(parent_id) -> list:
    """The flow runs whose parent is the flow run ``parent_id``."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    return api(lambda c: c.read_flow_runs(
        flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id]))))


def artifacts(run_id) -> dict:
    """The artifacts of a flow run, by key."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    found = api(lambda c: c.read_artifacts(
        artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))))
    return {a.key: a for a in found}
