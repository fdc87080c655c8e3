"""What jobs find reaches the holder's portal: excluded training items and video segments as
findings with their evidence; a licensee opens its dataset job's report; claim outcomes are
plotted over time. Tenants see only their own."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from kenri.demo.artwork import hoshimaru, kumo_chan
from tests.media_factory import video_with_stretch
from tests.service_world import build_world, png, shard, wait_for_job


@pytest.fixture
def world(app):
    world = build_world(app)
    yield world
    world.close()


def _portal(world, who: str) -> tuple[TestClient, str]:
    client = TestClient(world.client.app)
    response = client.post(
        "/portal/login", data={"api_key": world.keys[who]}, follow_redirects=False
    )
    assert response.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/portal/").text)
    return client, csrf.group(1) if csrf else ""


def _finding_links(page: str) -> list[str]:
    return re.findall(r'href="(/portal/findings/\d+)"', page)


def test_excluded_training_items_are_findings_and_the_job_report_opens(world) -> None:
    tar = shard({"000": (png(hoshimaru()), "a star"), "001": (png(kumo_chan()), "a cloud")})
    job = world.ok("licenseeB", "POST", "/v1/jobs/dataset",
                   files=[("files", ("00000.tar", tar, "application/x-tar"))])  # fmt: skip
    assert wait_for_job(world, "licenseeB", job["id"])["state"] == "done"

    holder, _ = _portal(world, "holderA")
    listing = holder.get("/portal/findings").text
    assert "training data" in listing and "Hoshi Saga" in listing and "Kumo Tales" not in listing
    page = holder.get(_finding_links(listing)[0])
    assert page.status_code == 200
    assert "Training item 000 in shard 00000" in page.text  # which item of which shard
    assert 'id="query-evidence"' in page.text  # the item's picture beside the reference
    picture = holder.get(_finding_links(listing)[0] + "/media")
    assert picture.status_code == 200 and picture.content == png(hoshimaru())
    other, _ = _portal(world, "holderB")
    assert "Kumo Tales" in other.get("/portal/findings").text
    assert other.get(_finding_links(listing)[0]).status_code == 404

    licensee, _ = _portal(world, "licenseeB")
    jobs = licensee.get("/portal/jobs").text
    link = f"/portal/jobs/{job['id']}/report"
    assert link in jobs
    report = licensee.get(link)
    assert report.status_code == 200 and "Hoshi Saga" in report.text and "<svg" in report.text
    stranger, _ = _portal(world, "licenseeA")
    assert stranger.get(link).status_code == 404


def test_video_job_findings_show_the_matching_segments(world, tmp_path) -> None:
    art = np.asarray(hoshimaru().convert("RGB"))
    video = video_with_stretch(tmp_path / "clip.mp4", art, start_s=3.0, length_s=3.0)
    job = world.ok("licenseeB", "POST", "/v1/jobs/video",
                   files={"file": ("clip.mp4", video.read_bytes(), "video/mp4")})  # fmt: skip
    done = wait_for_job(world, "licenseeB", job["id"])
    assert done["state"] == "done" and done["result"]["decision"] == "block", done

    holder, _ = _portal(world, "holderA")
    listing = holder.get("/portal/findings").text
    assert ">video<" in listing
    page = holder.get(_finding_links(listing)[0]).text
    assert 'id="query-video"' in page and 'id="segments"' in page
    starts = [float(s) for s in re.findall(r'data-start="([\d.]+)"', page)]
    assert starts and min(abs(s - 3.0) for s in starts) <= 0.6  # where the copy begins
    media = holder.get(_finding_links(listing)[0] + "/media")
    assert media.status_code == 200 and media.content == video.read_bytes()


def test_claim_outcomes_are_plotted_per_day_in_both_languages(world) -> None:
    claim = world.ok("holderA", "POST", "/v1/claims", json={
        "kind": "claim", "message": "Take this down", "generation_id": world.ids["generation"],
    })  # fmt: skip
    holder, _ = _portal(world, "holderA")
    assert 'id="outcomes-chart"' not in holder.get("/portal/reports").text  # nothing ended yet
    world.ok("licenseeA", "POST", f"/v1/claims/{claim['id']}/actions",
             json={"action": "accept", "note": "removed", "actions": ["takedown"]})  # fmt: skip
    page = holder.get("/portal/reports").text
    chart = page[page.index('id="outcomes-chart"') :]
    assert "accepted: 1</title>" in chart[: chart.index("</svg>")]
    holder.get("/portal/lang/ja")
    japanese = holder.get("/portal/reports").text
    assert "日別の結果" in japanese and "受諾: 1</title>" in japanese
