"""Catalog import: idempotent, a changed line updates, a bad line costs only itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import kenri
from kenri.catalog import import_catalog
from kenri.errors import KenriError
from kenri.registry.registry import NameSpec


def write(path: Path, lines: list) -> Path:
    text = "".join(
        (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def catalog_dir(tmp_path: Path, art: dict[str, Path]) -> Path:
    folder = tmp_path / "catalog"
    (folder / "art").mkdir(parents=True)
    for path in art.values():
        shutil.copy(path, folder / "art" / path.name)
    return folder


PIKA = {
    "holder": "The Pokémon Company",
    "country": "JP",
    "work": "Pokémon",
    "character": "Pikachu",
    "names": ["Pikachu", "ピカチュウ", {"text": "Pikachuu", "script": "romaji"}],
    "descriptions": ["small yellow electric mouse with red cheeks and a lightning-bolt tail"],
    "references": ["art/hoshimaru.png"],
}
WORK_ONLY = {
    "holder": "Studio Kumo",
    "country": "JP",
    "work": "Lantern Town",
    "character": None,
    "names": ["灯籠町"],
    "descriptions": [],
    "references": ["art/lantern_town.png"],
}
NAMES_ONLY = {
    "holder": "Nova Comics",
    "country": "US",
    "work": "Captain Comet",
    "character": "Captain Comet",
    "names": ["キャプテン・コメット"],
}


def snapshot(app: kenri.Kenri) -> dict:
    with app.transaction() as tx:
        out = {}
        for c in tx.registry.characters():
            out[c.name] = (
                c.work.holder.country,
                sorted((n.text, n.script) for n in tx.registry.names(c.work, c)),
                sorted(d.text for d in tx.registry.descriptions(c.work, c)),
                sorted(r.sha256 for r in tx.registry.references(character=c)),
            )
        for w in tx.registry.works():
            out[f"work:{w.title}"] = (
                sorted(n.text for n in tx.registry.names(w, None)),
                sorted(r.sha256 for r in tx.registry.references(w, exact_subject=True)),
            )
        return out


def test_import_then_reimport_changes_nothing(app, catalog_dir):
    catalog = write(catalog_dir / "c.jsonl", [PIKA, WORK_ONLY, NAMES_ONLY])
    first = import_catalog(app, catalog)
    assert [r.status for r in first.lines] == ["created", "created", "created"]
    before = snapshot(app)
    second = import_catalog(app, catalog)
    assert [r.status for r in second.lines] == ["unchanged"] * 3
    assert snapshot(app) == before

    pika = before["Pikachu"]
    assert pika[0] == "JP"
    assert ("ピカチュウ", "kana") in pika[1] and ("Pikachuu", "romaji") in pika[1]
    assert pika[2] == [PIKA["descriptions"][0]]
    assert len(pika[3]) == 1
    assert before["work:Lantern Town"][0] == ["Lantern Town", "灯籠町"]
    assert len(before["work:Lantern Town"][1]) == 1
    assert before["Captain Comet"][3] == []  # registered by its names alone
    with app.transaction() as tx:
        ref = tx.registry.references(character=tx.registry.character("ピカチュウ"))[0]
        stored = tx.registry.media_path(ref)
        assert stored.read_bytes() == (catalog_dir / "art" / "hoshimaru.png").read_bytes()
        assert ref.kind == "image" and ref.mime == "image/png" and ref.width == 400


def test_changed_line_updates_and_keeps_manual_rows(app, catalog_dir, art):
    catalog = write(catalog_dir / "c.jsonl", [PIKA])
    import_catalog(app, catalog)
    with app.transaction() as tx:
        pikachu = tx.registry.character("Pikachu")
        tx.registry.sync_names(pikachu.work, pikachu, [NameSpec("皮卡丘")], "manual", prune=False)
        tx.registry.add_reference(art["kumo_chan"], pikachu.work, pikachu)
    changed = dict(
        PIKA,
        country="JP",
        names=["Pikachu", "ピカチュウ"],
        descriptions=["yellow mouse"],
        references=["art/captain_comet.png"],
    )
    report = import_catalog(app, write(catalog_dir / "c.jsonl", [changed]))
    assert [r.status for r in report.lines] == ["updated"]
    snap = snapshot(app)["Pikachu"]
    names = [n for n, _ in snap[1]]
    assert "Pikachuu" not in names  # removed from the line
    assert "皮卡丘" in names  # added by hand: never touched by an import
    assert snap[2] == ["yellow mouse"]
    with app.transaction() as tx:
        refs = tx.registry.references(
            character=tx.registry.character("Pikachu"), include_removed=True
        )
        live = {r.original_name for r in refs if r.removed_at is None}
        retired = {r.original_name for r in refs if r.removed_at is not None}
    assert live == {"captain_comet.png", "kumo_chan.png"}
    assert retired == {"hoshimaru.png"}  # retired, kept in history
    assert [r.status for r in import_catalog(app, catalog_dir / "c.jsonl").lines] == ["unchanged"]


def test_holder_country_change_updates(app, catalog_dir):
    import_catalog(app, write(catalog_dir / "c.jsonl", [NAMES_ONLY]))
    report = import_catalog(app, write(catalog_dir / "c.jsonl", [dict(NAMES_ONLY, country="CA")]))
    assert report.lines[0].status == "updated"
    with app.transaction() as tx:
        assert tx.registry.holder("Nova Comics").country == "CA"


def test_bad_lines_are_reported_with_line_numbers_and_the_rest_imported(app, catalog_dir):
    (catalog_dir / "art" / "notes.png").write_text("this is not an image")
    truncated = (catalog_dir / "art" / "hoshimaru.png").read_bytes()[:2000]
    (catalog_dir / "art" / "truncated.png").write_bytes(truncated)
    lines = [
        PIKA,  # 1 ok
        "{not json",  # 2
        {"holder": "X", "character": "Y"},  # 3 missing work
        dict(NAMES_ONLY, character="A", references=["art/missing.png"]),  # 4 unreadable
        dict(NAMES_ONLY, character="B", references=["art/notes.png"]),  # 5 not media
        dict(NAMES_ONLY, character="C", references=["art/truncated.png"]),  # 6 corrupt
        "",  # 7 blank: skipped
        WORK_ONLY,  # 8 ok
        dict(PIKA, names="Pikachu"),  # 9 wrong type
        "[1, 2]",  # 10 not an object
        dict(PIKA),  # 11 duplicate subject
        dict(NAMES_ONLY, country="Japan!"),  # 12 bad country
        dict(NAMES_ONLY, surprise=1),  # 13 unknown field
        "[" * 100000,  # 14 hostile nesting
        NAMES_ONLY,  # 15 ok
    ]
    catalog = write(catalog_dir / "c.jsonl", lines)
    with open(catalog, "ab") as fh:
        fh.write(b'{"holder": "\xff\xfe"}\n')  # 16 not UTF-8
    report = import_catalog(app, catalog)
    errors = {r.line: r.error for r in report.errors}
    assert sorted(errors) == [2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 16]
    assert "invalid JSON" in errors[2]
    assert "missing field 'work'" in errors[3]
    assert "not found" in errors[4]
    assert "not an image or video" in errors[5]
    assert "not a readable image" in errors[6]
    assert "names" in errors[9]
    assert "JSON object" in errors[10]
    assert "line 1" in errors[11]
    assert "country" in errors[12]
    assert "surprise" in errors[13]
    assert "UTF-8" in errors[16]
    assert [r.line for r in report.lines if r.status == "created"] == [1, 8, 15]
    with app.transaction() as tx:
        names = sorted(c.name for c in tx.registry.characters())
        assert names == ["Captain Comet", "Pikachu"]  # nothing of the bad lines was written
    assert report.to_dict()["created"] == 3


def test_unreadable_catalog_is_a_clear_error(app, tmp_path):
    with pytest.raises(KenriError, match="cannot read catalog"):
        import_catalog(app, tmp_path / "nope.jsonl")


def test_absolute_reference_paths_and_bom(app, catalog_dir, tmp_path):
    line = dict(PIKA, references=[str(catalog_dir / "art" / "kumo_chan.png")])
    path = tmp_path / "elsewhere" / "c.jsonl"
    path.parent.mkdir()
    path.write_bytes("\ufeff".encode() + json.dumps(line).encode() + b"\n")
    report = import_catalog(app, path)
    assert [r.status for r in report.lines] == ["created"]


def test_same_file_for_two_subjects_is_stored_once(app, catalog_dir):
    other = dict(PIKA, character="Raichu", names=["ライチュウ"])
    import_catalog(app, write(catalog_dir / "c.jsonl", [PIKA, other]))
    with app.transaction() as tx:
        refs = tx.registry.references()
        assert len(refs) == 2 and refs[0].sha256 == refs[1].sha256
        stored = list(app.media.root.rglob("*.png"))
        assert len(stored) == 1


def test_a_line_past_the_limit_costs_only_itself(app, catalog_dir: Path, monkeypatch) -> None:
    from kenri.catalog import importer

    monkeypatch.setattr(importer, "MAX_LINE_BYTES", 2_000)
    long_line = json.dumps(NAMES_ONLY | {"descriptions": ["x" * 5_000]})
    path = write(catalog_dir / "c.jsonl", [NAMES_ONLY | {"work": "First"}, long_line,
                                           NAMES_ONLY | {"work": "Third"}])  # fmt: skip
    with path.open("ab") as handle:  # a last line without a newline
        handle.write(json.dumps(NAMES_ONLY | {"work": "Fourth"}).encode())
    report = import_catalog(app, path)
    assert [(r.line, r.status) for r in report.lines] == [
        (1, "created"), (2, "error"), (3, "created"), (4, "created")]  # fmt: skip
    assert "longer than 2000 bytes" in report.lines[1].error
