"""`latentcut serve`: LatentCut's engine as a Ray Serve application behind a `/v1/videos` HTTP API.

`replica` is the Serve deployment (one replica = one loaded model in a local engine thread),
`dispatch` hands accepted jobs to the replicas and keeps their state, `api` is the HTTP front,
`video_request` turns a request into a job spec, `server` starts and stops all of it, and
`wire` is what server and client share (event and preview encoding). Only `wire` is imported
by the client (`engine.remote_engine`), so a client never imports ray.
"""
