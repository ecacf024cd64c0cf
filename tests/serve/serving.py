"""Helpers for the server tests: a real Ray on loopback serving the tiny random model.

Ray starts slowly on a shared 2-core machine (a minute or more), so each module starts one
cluster and its tests share it; Ray gets 2 logical CPUs and a 100 MB object store.
"""
from __future__ import annotations

import contextlib
import json
import logging
import urllib.error
import urllib.request


TOKEN = "test-token"
OBJECT_STORE = 100 * 2**20


@contextlib.contextmanager
def serving(model, replicas: int = 2, token: str | None = TOKEN, address: str | None = None):
    """A started EngineServer (HTTP on a free loopback port) on a fresh local Ray, or on the
    cluster at `address`; stopped, with that Ray, on exit."""
    import ray

    from engine.serve.server import EngineServer, ServeOptions, start_local_ray

    if address is None:
        start_local_ray(replicas, OBJECT_STORE)
    else:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    server = EngineServer(ServeOptions(port=0, replicas=replicas, models=[str(model)], token=token, threads=1))
    try:
        server.start()
        server.start_background()
        yield server
    finally:
        server.stop()
        from ray import serve
        serve.shutdown()
        ray.shutdown()


def http(url: str, method: str = "GET", token: str | None = TOKEN, body: bytes | None = None,
         content_type: str | None = None, headers: dict | None = None):
    """(status, parsed JSON or raw bytes) of one request."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if content_type:
        all_headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, data, kind = response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, data, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    return status, (json.loads(data) if kind.startswith("application/json") else data)


def post_json(url: str, fields: dict, token: str | None = TOKEN):
    return http(url, "POST", token, json.dumps(fields).encode(), "application/json")
