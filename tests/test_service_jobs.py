"""Video and dataset screening as jobs: progress, results, cancellation, tenant isolation."""

from __future__ import annotations

import pytest

from kenri.demo.artwork import hoshimaru, kumo_chan
from tests.media_factory import make_video
from tests.service_world import build_world, png, shard, wait_for_job


@pytest.fixture
def world(app):
    world = build_world(app)
    yield world
    world.close()


def test_dataset_job_excludes_the_registered_work(world) -> None:
    tar = shard({
        "000": (png(hoshimaru()), "a star"),
        "001": (png(kumo_chan()), "a cloud"),
        "002": (b"not an image", "broken"),
    })  # fmt: skip
    job = world.ok("licenseeB", "POST", "/v1/jobs/dataset",
                   files=[("files", ("00000.tar", tar, "application/x-tar"))])  # fmt: skip
    assert job["state"] == "queued"
    done = wait_for_job(world, "licenseeB", job["id"])
    assert done["state"] == "done" and done["progress"] == 1.0, done
    decisions = done["result"]["decisions"]
    assert decisions == {"exclude": 2, "error": 1}  # both registered works, no grant for B
    assert world.call("licenseeA", "GET", f"/v1/jobs/{job['id']}").status_code == 404


def test_video_job_reports_progress_and_a_bad_file_fails_cleanly(world, tmp_path) -> None:
    video = make_video(tmp_path / "clip.mp4", frames=36)
    job = world.ok("licenseeA", "POST", "/v1/jobs/video",
                   files={"file": ("clip.mp4", video.read_bytes(), "video/mp4")})  # fmt: skip
    done = wait_for_job(world, "licenseeA", job["id"])
    assert done["state"] == "done", done
    assert done["result"]["decision"] == "allow" and done["result"]["segments"] == []
    broken = b"\x00\x00\x00\x18ftypmp42broken"
    bad = world.ok("licenseeA", "POST", "/v1/jobs/video", files={"file": ("clip.mp4", broken)})
    failed = wait_for_job(world, "licenseeA", bad["id"])
    assert failed["state"] == "failed" and failed["error"]


def test_cancelling_a_queued_job(world, app) -> None:
    runner = world.client.app.state.jobs
    tenant = world.ok("licenseeA", "GET", "/v1/me")["id"]
    with app.transaction() as tx:  # a job that is queued but not started (no worker picks it)
        job_id = runner.submit(tx, tenant, "dataset", [("a.tar", shard({}))], {}).id
    cancelled = world.ok("licenseeA", "DELETE", f"/v1/jobs/{job_id}")
    assert cancelled["state"] == "cancelled"
    runner._run(job_id)  # a worker reaching it later leaves it cancelled
    assert world.ok("licenseeA", "GET", f"/v1/jobs/{job_id}")["state"] == "cancelled"
