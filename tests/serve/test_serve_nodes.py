"""`latentcut serve` on a simulated two-node Ray cluster (`ray.cluster_utils.Cluster`): a replica
on each node, one node removed mid-storyboard, and every shot still lands."""
from __future__ import annotations

import time

import pytest

from engine.jobs import GenerateJob
from engine.remote_engine import RemoteEngine
from job_fixtures import tiny_model  # noqa: F401  (fixtures are registered by import)
from serving import OBJECT_STORE, TOKEN, http, serving

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def cluster(tiny_model):
    from ray.cluster_utils import Cluster

    # The head holds Serve's controller and no replica; each worker node has room for one replica.
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": OBJECT_STORE,
                                                          "include_dashboard": False})
    workers = [nodes.add_node(num_cpus=1, object_store_memory=OBJECT_STORE) for _ in range(2)]
    nodes.wait_for_nodes()
    try:
        with serving(tiny_model, replicas=2, address=nodes.address) as server:
            yield server, nodes, workers
    finally:
        nodes.shutdown()


def test_a_node_leaving_mid_storyboard_loses_no_shot(cluster, tmp_path):
    server, nodes, workers = cluster
    engine = RemoteEngine(server.url, token=TOKEN)
    try:
        ids = [engine.submit(GenerateJob(prompt=f"shot {i}", seconds=1, steps=120, seed=i, size=(64, 32),
                                         output=str(tmp_path))) for i in range(4)]
        running = _two_running_jobs(server)
        assert {job["replica"]["node"] for job in running} == {w.node_id for w in workers}
        # the node of the first running shot leaves; two shots are still queued at the server
        leaving = next(w for w in workers if w.node_id == running[0]["replica"]["node"])
        nodes.remove_node(leaving)
        finals = [engine.wait(job_id, timeout=600) for job_id in ids]
    finally:
        engine.shutdown()
    assert [f.kind for f in finals] == ["done"] * 4, [f.message for f in finals]
    survivor = next(w for w in workers if w is not leaving).node_id
    made_on = [f.result["provenance"]["where"]["node"] for f in finals]
    assert made_on.count(survivor) >= 3  # all but a shot that finished before the node left
    assert len({f.result["path"] for f in finals}) == 4


def _two_running_jobs(server) -> list[dict]:
    """The server's view of the two jobs running at once, polled until both have started."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        _, state = http(f"{server.url}/v1/engine")
        if state["in_progress"] == 2:
            break
        time.sleep(0.1)
    jobs = http(f"{server.url}/v1/videos")[1]["data"]
    running = [job for job in jobs if job["status"] == "in_progress"]
    assert len(running) == 2, jobs
    return running
