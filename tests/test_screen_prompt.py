"""Prompt screening: names in every script and their obfuscations, style vs character, grants,
rewrites, and ordinary prompts that must pass."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import kenri
from kenri.catalog import import_catalog
from kenri.cli.main import app as cli_app
from kenri.demo.run import write_catalog
from kenri.screening.prompt.normalize import fold_name


@pytest.mark.parametrize(
    "spelling",
    ["Pikachu", "ピカチュウ", "ぴかちゅう", "ﾋﾟｶﾁｭｳ", "Pikachuu", "ピカチュー", "P1kachu", "Pik@chu",
     "Pіkachu",  # Cyrillic і
     "pika chu", "p-i-k-a-c-h-u", "ＰＩＫＡＣＨＵ", "PIKACHU", "Piiikachu"],
)  # fmt: skip
def test_spellings_fold_to_one_form(spelling):
    assert fold_name(spelling) == "pikachu"


def test_folding_keeps_kanji_and_distinct_names_apart():
    assert fold_name("竈門炭治郎") == "竈門炭治郎"
    assert fold_name("ドラえもん") == fold_name("Doraemon") == "doraemon"
    assert fold_name("Raichu") != fold_name("Pikachu")
    assert fold_name("R2-D2") == "r2d2"  # digits that are not between letters stay digits


@pytest.mark.parametrize(
    "text, folded",
    [("P1k4chu", "pikachu"), ("4bra", "abra"), ("Ch4rm4nd3r", "charmander"), ("0ddish", "odish"),
     ("M4r10", "mario"), ("1080p", "1080p"), ("4k", "4k"), ("35mm", "35m"), ("1920s", "1920s"),
     ("B52", "b52"), ("area 51", "area51"), ("Chun-L1", "chunli"), ("H0-Oh", "hooh"),
     ("Gr4f4141", "grafaiai"), ("COVID-19", "covid19"), ("A-380", "a380"), ("F-16", "f16")],
)  # fmt: skip
def test_leetspeak_digits_fold_only_inside_words_of_letters(text, folded):
    assert fold_name(text) == folded


@pytest.fixture
def registry(app: kenri.Kenri, tmp_path) -> kenri.Kenri:
    assert not import_catalog(app, write_catalog(tmp_path / "catalog")).errors
    with app.transaction() as tx:
        holder = tx.registry.holder("Nova Comics")
        work = tx.registry.add_work(holder, "Mew Saga")
        tx.registry.add_character(work, "Mew")  # a short name: needs corroboration
        tx.registry.add_licensee("Acme AI", "US")
    return app


def decide(app, prompt, **options):
    return app.screen_prompt(prompt, **options)


@pytest.mark.parametrize(
    "prompt, character",
    [
        ("a cute Hoshimaru plush on a shelf", "Hoshimaru"),
        ("星丸が空を飛ぶ", "Hoshimaru"),
        ("ほしまるのイラスト", "Hoshimaru"),
        ("H0shimaru at the beach", "Hoshimaru"),
        ("Hоshimaru (with a Cyrillic o)", "Hoshimaru"),
        ("h o s h i m a r u dancing", "Hoshimaru"),
        ("KUMO-CHAN in the rain", "Kumo-chan"),
        ("キャプテン・コメット returns", "Captain Comet"),
    ],
)
def test_names_in_every_script_and_obfuscated_block(registry, prompt, character):
    result = decide(registry, prompt)
    assert result.decision == "block", result.to_dict()
    assert result.matches[0].character == character
    assert result.matches[0].reference == "character"


def test_misspelling_is_reviewed_not_blocked(registry):
    result = decide(registry, "Hoshimaro fan art")
    assert result.decision == "review"
    assert result.matches[0].reason == "fuzzy"


@pytest.mark.parametrize(
    "prompt",
    [
        "a yellow star in the night sky",
        "an anime girl in a school uniform",
        "a small white cloud over a green hill",
        "a comet over the mountains, oil painting",
        "a painting by Jack Kirby",
        "mewing cats in a basket",
        "a lantern festival in a town",
    ],
)
def test_ordinary_prompts_pass(registry, prompt):
    result = decide(registry, prompt)
    assert result.decision == "allow", result.to_dict()


def test_short_name_needs_corroboration(registry):
    assert decide(registry, "Mew sleeping").decision == "review"
    assert decide(registry, "Mew from Mew Saga, sleeping").decision == "block"


def test_style_reference_is_decided_by_the_style_purpose(registry):
    result = decide(registry, "a quiet street in the style of Lantern Town", licensee="Acme AI")
    assert result.decision == "block"
    assert result.matches[0].reference == "style" and result.matches[0].purpose == "style"
    assert result.rewrite == "a quiet street"
    with registry.transaction() as tx:
        tx.ledger.grant(
            tx.registry.licensee("Acme AI"), tx.registry.work("Lantern Town"), ["style"]
        )
    allowed = decide(registry, "a quiet street in the style of Lantern Town", licensee="Acme AI")
    assert allowed.decision == "allow" and allowed.matches[0].grant is not None
    # A style grant does not license the work itself as content.
    assert decide(registry, "Lantern Town at night", licensee="Acme AI").decision == "block"


def test_generation_grant_allows_and_names_it(registry):
    with registry.transaction() as tx:
        tx.ledger.grant(
            tx.registry.licensee("Acme AI"), tx.registry.character("Captain Comet"), ["generation"]
        )
    result = decide(registry, "Captain Comet flying over a city", licensee="Acme AI")
    assert result.decision == "allow"
    assert result.matches[0].grant["licensee"] == "Acme AI"
    assert decide(registry, "Captain Comet flying over a city").decision == "block"


def test_rewrite_and_negative_terms(registry):
    result = decide(registry, "Hoshimaru and Kumo-chan having a picnic, watercolor")
    assert result.decision == "block"
    assert result.rewrite == "and having a picnic, watercolor"
    assert {"Hoshimaru", "Kumo-chan"} <= set(result.negative_terms)


def test_hostile_prompts(registry):
    with pytest.raises(kenri.KenriError, match="longer than"):
        decide(registry, "x" * 50_000)
    for prompt in ["", "\x00\x01", "🙂" * 100, "‮Hoshimaru", "ーーー", "っっっ"]:
        assert decide(registry, prompt).decision in ("allow", "block")


def test_cli_screen_prompt_json(registry):
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["--home", str(registry.settings.home), "--db", registry.settings.db_url, "screen",
         "prompt", "ほしまる", "a sunny beach", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["decision"] for line in lines] == ["block", "allow"]
    assert lines[0]["matches"][0]["holder"] == "Studio Kumo"


def test_cli_screen_prompt_file_keeps_order_and_reports_bad_lines(registry, tmp_path):
    prompts = tmp_path / "prompts.txt"
    long_prompt = "x" * 20_001
    prompts.write_bytes(
        "ほしまる\n\na sunny beach\n".encode() + long_prompt.encode() + b"\nKumo-chan \xff\n"
    )
    result = CliRunner().invoke(
        cli_app,
        ["--home", str(registry.settings.home), "--db", registry.settings.db_url, "screen",
         "prompt", "--file", str(prompts), "--json"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output  # one line failed; the others were screened
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("decision") for line in lines] == ["block", "allow", None, "block"]
    assert "longer than" in lines[2]["error"] and lines[2]["line"] == 3
    assert {"prompt", "decision", "matches", "rewrite", "negative_terms"} <= set(lines[0])
    assert lines[0]["matches"][0]["reason"] in {"name", "alias"}


def test_kana_is_a_spelling_not_a_disguise():
    from kenri.screening.prompt.normalize import is_deliberately_obfuscated

    assert is_deliberately_obfuscated("Th0r") and is_deliberately_obfuscated("Bàtmän")
    assert not is_deliberately_obfuscated("かぜ") and not is_deliberately_obfuscated("café")
