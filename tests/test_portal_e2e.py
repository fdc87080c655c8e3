"""The portal end to end in headless Chromium (Debian's, driven by Playwright), on PostgreSQL:
a holder signs in and registers a character with an image in Japanese; a licensee's image is
blocked; the holder sees the match with its evidence and files a claim; the licensee answers.

``KENRI_SCREENSHOTS=folder`` also saves the main pages in both languages there (the ones under
docs/portal/ were made so).
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import kenri
from kenri.demo.artwork import hoshimaru
from kenri.service.tenants import Tenants

CHROMIUM = os.environ.get("KENRI_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("KENRI_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium required but missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path, pg_url):
    home = tmp_path / "home"
    app = kenri.open(home, pg_url)
    with app.transaction("test") as tx:
        tenants = Tenants(tx.registry, "test")
        keys = {
            "holder": tenants.issue_key(tenants.create("Studio Hoshi", "holder", "JP"))[1],
            "licensee": tenants.issue_key(tenants.create("Acme AI", "licensee", "US"))[1],
        }
    app.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, KENRI_HOME=str(home), KENRI_DB=pg_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "kenri", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield base, keys
    process.terminate()
    process.wait(10)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _sign_in(page, base: str, key: str, lang: str) -> None:
    page.goto(f"{base}/portal/lang/{lang}?next=/portal/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/portal/")


def test_holder_registers_licensee_is_blocked_holder_claims_licensee_answers(
    browser, server, tmp_path
) -> None:
    base, keys = server
    shots = Path(os.environ["KENRI_SCREENSHOTS"]) if os.environ.get("KENRI_SCREENSHOTS") else None

    def shot(page, name: str) -> None:
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    picture = tmp_path / "hoshimaru.png"
    hoshimaru().save(picture)

    # 1. The holder signs in (Japanese) and registers a character with an image.
    holder = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in(holder, base, keys["holder"], "ja")
    assert "としてログイン中" in holder.content()
    holder.click("nav a[href='/portal/works']")
    holder.fill("#new_work", "星の旅")
    holder.fill("#name", "ほしまる")
    holder.fill("#kanji", "星丸")
    holder.fill("#kana", "ほしまる")
    holder.fill("#romaji", "Hoshimaru")
    holder.fill("#english", "Star Boy")
    holder.fill("#description", "ピンクのほっぺと青いマフラーの、黄色い星の男の子")
    holder.set_input_files("#files", str(picture))
    shot(holder, "ja-register")
    holder.click("#register button[type=submit]")
    holder.wait_for_url(f"{base}/portal/characters/*")
    assert "星丸" in holder.content() and "良好" in holder.content()  # fingerprints are healthy
    shot(holder, "ja-character")

    # 2. The licensee screens an edited copy before generating: blocked.
    crop = hoshimaru().crop((40, 30, 470, 480)).resize((360, 376))
    blocked = httpx.post(
        f"{base}/v1/screen/image",
        headers={"Authorization": f"Bearer {keys['licensee']}"},
        files={"file": ("out.png", _png(crop), "image/png")},
        timeout=60,
    ).json()
    assert blocked["decision"] == "block", blocked
    prompt = httpx.post(
        f"{base}/v1/screen/prompt",
        headers={"Authorization": f"Bearer {keys['licensee']}"},
        json={"prompt": "星丸 riding a comet"},
        timeout=60,
    ).json()
    assert prompt["decision"] == "block", prompt

    # 3. The holder sees the match with the evidence side by side and files a claim.
    holder.goto(f"{base}/portal/findings")
    assert "Acme AI" in holder.content() and "ブロック" in holder.content()
    shot(holder, "ja-findings")
    holder.click("a[href^='/portal/findings/'] >> nth=-1")  # the oldest: the image
    assert holder.locator("#query-evidence polygon").count() == 1  # the matched region
    assert holder.locator("img[src^='/portal/references/']").count() == 1
    shot(holder, "ja-finding")
    holder.fill("#message", "弊社キャラクター「星丸」の無断利用です。削除してください。")
    holder.click("text=申立てを送る")
    holder.wait_for_url(f"{base}/portal/claims/*")
    claim_url = holder.url
    assert holder.locator("#claim-state").inner_text() == "受付中"

    # 4. The licensee (English) finds the claim to answer and disputes it with a reason.
    licensee = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _sign_in(licensee, base, keys["licensee"], "en")
    licensee.click("nav a[href='/portal/claims']")
    assert "Studio Hoshi" in licensee.content()
    shot(licensee, "en-claims-licensee")
    licensee.goto(claim_url)
    licensee.fill("#note", "Our output was a parody reviewed by counsel.")
    licensee.click("button[value=dispute]")
    licensee.wait_for_url(claim_url)
    assert licensee.locator("#claim-state").inner_text() == "disputed"
    shot(licensee, "en-claim")

    # 5. The holder sees the answer, in Japanese, with the history.
    holder.goto(claim_url)
    assert holder.locator("#claim-state").inner_text() == "異議あり"
    assert "parody" in holder.content()
    shot(holder, "ja-claim")
    if shots:  # the remaining main pages, in both languages
        for lang in ("ja", "en"):
            holder.goto(f"{base}/portal/lang/{lang}?next=/portal/")
            shot(holder, f"{lang}-dashboard")
            for page in ("works", "grants", "findings", "claims", "reports"):
                holder.goto(f"{base}/portal/{page}")
                shot(holder, f"{lang}-{page}")
        licensee.goto(f"{base}/portal/history")
        shot(licensee, "en-history")

    # Another tenant's pages stay closed: the licensee cannot open the holder's evidence.
    licensee.goto(f"{base}/portal/findings/1")
    assert licensee.locator("text=Something is not right").count() == 1


def test_report_pdf(browser, server) -> None:
    """The reports page prints to PDF through the same Chromium."""
    base, keys = server
    page = browser.new_context().new_page()
    _sign_in(page, base, keys["holder"], "en")
    response = page.request.get(f"{base}/portal/reports/report.pdf")
    assert response.status == 200, response.text()
    assert response.body()[:5] == b"%PDF-"
