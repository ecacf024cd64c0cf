"""Running jobs from the command line: on the local engine thread or a remote engine, with a
progress bar on stderr; Ctrl-C or SIGTERM cancels the running job."""
from __future__ import annotations

import json
import sys

from desktop.cli_errors import Failure, Interrupted, Terminated
from desktop.cli_progress import ProgressBar, steps_per_window
from engine.jobs import Job


def run_jobs(jobs: list[Job], label: str, threads: int | None = None, keep_going: bool = False,
             signing=None, engine: str | None = None, token: str | None = None) -> list:
    """Runs jobs on the local engine thread (or the remote engine at URL `engine`) with a progress
    bar on stderr; returns each job's result dict (or, with keep_going, the failure message).
    Ctrl-C cancels the running job and raises Interrupted; a failure raises Failure unless
    keep_going. `signing` (SigningSettings) says who signs what the jobs write here (default: the
    environment's signer, else the local one); a remote engine signs its results with its own."""
    from engine.remote_engine import open_engine

    bar = ProgressBar(label, len(jobs), [steps_per_window(job) for job in jobs])
    engine = open_engine(on_event=bar.on_event, threads=threads, signing=signing, url=engine, token=token)
    wait_for_workers = True
    try:
        ids = [engine.submit(job) for job in jobs]
        finals = []
        for n, job_id in enumerate(ids):
            try:
                final = _wait(engine, job_id, bar)
            except Interrupted:
                wait_for_workers = bar.working
                raise
            if final.kind == "cancelled":
                raise Interrupted(f"cancelled; no file was written for {jobs[n].describe()}")
            if final.kind == "failed":
                if not keep_going:
                    raise Failure(final.message)
                finals.append(final.message)
            else:
                finals.append(final.result)
        return finals
    finally:
        bar.close()
        # A job cancelled while its model was still loading writes nothing; the load cannot be
        # interrupted, so the process does not wait for it (the worker threads are daemons).
        engine.shutdown(timeout=None if wait_for_workers else 0.1)


def _wait(engine, job_id: str, bar: ProgressBar):
    """Waits for the job; Ctrl-C cancels it and, once it has begun making frames (a render
    writes as it goes), waits for the engine to clean up its partial file."""
    try:
        while True:
            final = engine.wait(job_id, timeout=0.2)
            if final is not None:
                return final
    except KeyboardInterrupt as exc:
        code = 143 if isinstance(exc, Terminated) else 130
        engine.cancel(job_id)
        print(file=sys.stderr)
        if not bar.working:
            raise Interrupted("cancelled before any frame was made; nothing was written", code) from None
        final = engine.wait(job_id)
        if final is not None and final.kind == "done":
            raise Interrupted(f"interrupted after {final.result['path']} was written", code) from None
        raise Interrupted("cancelled; no partial file was left", code) from None


def report(result: dict, as_json: bool, line: str) -> None:
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        print(line)
