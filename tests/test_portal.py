"""The portal without a browser: every string in both languages, sign-in, CSRF, tenant walls,
and the parity report on the demo catalog."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kenri.catalog import import_catalog
from kenri.demo.run import write_catalog
from kenri.portal import reports
from kenri.portal.i18n import MESSAGES, Translator, pick_language
from kenri.service.app import create_app
from kenri.service.tenants import Tenants

TEMPLATES = Path(__file__).resolve().parent.parent / "kenri" / "portal" / "templates"


def test_every_string_exists_in_both_languages_and_templates_use_only_known_keys() -> None:
    assert set(MESSAGES["en"]) == set(MESSAGES["ja"])
    for key, text in MESSAGES["en"].items():  # the same placeholders in both
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", MESSAGES["ja"][key]))
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'\bt\("([a-z_.]+)"', template.read_text(encoding="utf-8")))
    exact = {key for key in used if not key.endswith(".")}
    assert exact and exact <= set(MESSAGES["en"]), exact - set(MESSAGES["en"])
    for prefix in used - exact:  # t("state." ~ claim.state): the family exists
        assert any(key.startswith(prefix) for key in MESSAGES["en"]), prefix


def test_dates_and_numbers_are_localised() -> None:
    moment = datetime(2026, 11, 21, 9, 5, tzinfo=UTC)
    assert Translator("ja").date(moment) == "2026年11月21日 09:05 UTC"
    assert Translator("en").date(moment, time=False) == "21 Nov 2026"
    assert Translator("ja").number(12345) == "12,345"
    assert pick_language(None, "ja-JP,ja;q=0.9,en;q=0.8") == "ja"
    assert pick_language("en", "ja-JP") == "en"
    assert pick_language(None, "fr-FR") == "en"


@pytest.fixture
def portal(app):
    with app.transaction("test") as tx:
        tenants = Tenants(tx.registry, "test")
        keys = {
            "a": tenants.issue_key(tenants.create("Holder A", "holder", "JP"))[1],
            "b": tenants.issue_key(tenants.create("Holder B", "holder", "US"))[1],
        }
    return TestClient(create_app(app, deliver_webhooks=False)), keys


def _sign_in(client: TestClient, key: str) -> str:
    response = client.post("/portal/login", data={"api_key": key}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/portal/works").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_sign_in_csrf_and_tenant_walls(portal) -> None:
    client, keys = portal
    assert (
        client.get("/portal/works", follow_redirects=False)
        .headers["location"]
        .startswith("/portal/login")
    )
    bad = client.post("/portal/login", data={"api_key": "kenri_nope_nope"})
    assert bad.status_code == 401 and "not valid" in bad.text
    csrf = _sign_in(client, keys["a"])
    form = {"new_work": "Kumo Saga", "name": "Kumo", "kana": "くも"}
    refused = client.post("/portal/characters", data=form, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token, nothing written
    assert "Kumo Saga" not in client.get("/portal/works").text
    made = client.post("/portal/characters", data={**form, "csrf": csrf}, follow_redirects=False)
    assert made.status_code == 303
    character_page = made.headers["location"]
    assert "くも" in client.get(character_page).text
    # Holder B sees nothing of A's: the character page is a 404, the works list is empty.
    other = TestClient(client.app)
    _sign_in(other, keys["b"])
    assert other.get(character_page).status_code == 404
    assert "Kumo Saga" not in other.get("/portal/works").text
    # Signing out ends the session for good.
    client.post("/portal/logout", data={"csrf": csrf})
    assert client.get("/portal/works", follow_redirects=False).status_code == 303


def test_parity_on_the_demo_catalog(app, tmp_path) -> None:
    assert not import_catalog(app, write_catalog(tmp_path / "catalog")).errors
    cases = reports.labelled_prompts()
    result = reports.parity(app, cases)
    assert result["skipped"] == 0 and result["cases"] == len(cases)
    groups = {row["group"]: row for row in result["by_country"]}
    assert set(groups) == {"JP", "US"}
    languages = {row["group"]: row for row in result["by_lang"]}
    assert set(languages) == {"en", "ja"}
    for row in languages.values():
        assert row["positives"] and row["negatives"]
        assert 0 <= row["recall"] <= 1 and 0 <= row["fpr"] <= 1
    recalls = [row["recall"] for row in [*groups.values(), *languages.values()]]
    assert result["gap_points"] == round((max(recalls) - min(recalls)) * 100, 1)


def test_bad_form_input_gets_a_clear_error_and_writes_nothing(portal) -> None:
    client, keys = portal
    csrf = _sign_in(client, keys["a"])
    bad_work = client.post(
        "/portal/characters", data={"csrf": csrf, "work_id": "x' OR 1", "name": "Z"}
    )
    assert bad_work.status_code == 400 and "work_id must be an id" in bad_work.text
    bad_date = client.post("/portal/grants", data={"csrf": csrf, "work_id": "1", "licensee": "n",
                                                   "valid_until": "soon"})  # fmt: skip
    assert bad_date.status_code == 400 and "not a date" in bad_date.text
    assert client.get("/portal/characters/99999999999999").status_code == 422
    assert "Z" not in client.get("/portal/works").text.split("</nav>")[1].split("<form")[0]
