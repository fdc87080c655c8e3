"""The signals behind prompt decisions: shared terms, everyday-word names and the evidence they
need, and descriptions (indirect references, English and Japanese) with their explanation."""

from __future__ import annotations

import numpy as np
import pytest

import kenri
from kenri.text.background import background_prompts
from kenri.text.embedder import E5Embedder, EmbeddingCache
from kenri.text.lexicon import (
    dictionary_words,
    is_common_word,
    is_known_noun,
    is_real_world_name,
    terms,
    word_class,
)


def test_terms_fold_plurals_and_drop_stopwords():
    assert terms("The Plumbers wearing red hats") == {"plumber", "red", "hat"}
    assert terms("Mario's overalls, berries") == {"mario", "overall", "berry"}


def test_japanese_terms_are_bigrams_without_bare_particles():
    found = terms("背中に 不思議な タネが")
    assert {"背中", "不思", "思議", "タネ"} <= found
    assert not any(all("\u3040" <= ch <= "\u309f" for ch in t) for t in found)


@pytest.mark.parametrize(
    "name, kind",
    [("Link", "everyday"), ("Rose", "everyday"), ("mermaid", "word"), ("Snow White", "word"),
     ("Iron Man", "word"), ("Pikachu", "name"), ("ピカチュウ", "name"), ("Hoshimaru", "name"),
     ("R2-D2", "name"), ("capybara", "word"), ("a knight", "everyday"), ("Totoro", "name"),
     ("Jupiter", "real"), ("San Francisco", "real"), ("croissant", "word"),
     ("Dreepy", "name"), ("Dottler", "name")],  # Webster entries modern text never uses
)  # fmt: skip
def test_words_are_told_from_names(name, kind):
    assert word_class(name) == kind
    assert is_common_word(name) is (kind != "name")


@pytest.mark.parametrize(
    "name, real",
    [("Anubis", True), ("San Francisco", True), ("abraham lincoln", True), ("Thor", True),
     ("Donald Duck", False), ("Goofy", False), ("Mickey Mouse", False), ("Pikachu", False),
     ("Mario", False), ("croissant", False)],
)  # fmt: skip
def test_real_world_names_are_told_from_fiction(name, real):
    """WordNet's named gods, people and places are real; its cartoon characters are not."""
    assert is_real_world_name(name) is real


def test_known_nouns_and_newer_dictionary_words():
    assert is_known_noun("Koala  bear") and is_known_noun("Rosetta  Stone")
    assert is_known_noun("Peter Pan collar") and not is_known_noun("Donald Duck")
    assert not is_known_noun("Pikachu plush")
    assert {"croissant", "kachina", "prosciutto"} <= dictionary_words()
    assert "pikachu" not in dictionary_words()


def test_background_prompts_are_stable_and_bilingual():
    first, second = background_prompts(), background_prompts()
    assert first == second and len(first) == 240
    assert any(any("\u3040" <= ch <= "\u9fff" for ch in p) for p in first)


def test_embedding_cache_survives_a_restart(tmp_path):
    cache = EmbeddingCache(E5Embedder(), tmp_path)
    vectors = cache.embed(["a blue robot cat", "青いロボット猫"])
    assert vectors.shape == (2, 384)
    assert abs(float(vectors[0] @ vectors[1])) > 0.8  # one space for English and Japanese
    again = EmbeddingCache(E5Embedder(), tmp_path).embed(["青いロボット猫"])
    assert (again[0] == vectors[1]).all()
    assert (tmp_path / "e5-small-int8.npz").exists()
    other = tmp_path / "other"
    EmbeddingCache(E5Embedder(), other).embed(["a red kite"])
    with np.load(other / "e5-small-int8.npz") as stored:
        assert len(stored.files) == 1  # another data folder's texts never land in this file


@pytest.fixture
def described(app: kenri.Kenri) -> kenri.Kenri:
    """Two holders, one Japanese, each with a character known by traits and a common-word name."""
    with app.transaction() as tx:
        reg = tx.registry
        jp = reg.add_holder("Sora Studio", "JP")
        us = reg.add_holder("Harbor Pictures", "US")
        robot = reg.add_work(jp, "Pocket Robot Neko")
        reg.add_character(
            robot,
            "Nekobot",
            descriptions=[
                "a round blue robot cat from the 22nd century with no ears, a red collar with "
                "a golden bell and a magic pocket on its white belly that holds future gadgets",
                "二十二世紀から来た青い猫型ロボット。耳がなく、赤い首輪に鈴、白いお腹に四次元ポケット",
            ],
        )
        quest = reg.add_work(us, "Tide Quest")
        reg.add_character(quest, "Link", descriptions=[
            "a young sailor boy with a green knitted cap, a brass spyglass and a pet seagull "
            "named Pip, captain of the tiny ship Tidewalker",
        ])  # fmt: skip
        reg.add_character(quest, "Marina Tidewalker")
    return app


@pytest.mark.parametrize(
    "prompt, character",
    [
        ("a blue robot cat from the future with a magic pocket on its belly", "Nekobot"),
        ("round blue cat robot without ears, red collar and bell, pulls gadgets from a pocket",
         "Nekobot"),
        ("未来から来た耳のない青い猫型ロボット、お腹にポケット", "Nekobot"),
        ("a sailor boy in a green knitted cap holding a brass spyglass, seagull on his shoulder",
         "Link"),
    ],
)  # fmt: skip
def test_descriptions_catch_indirect_prompts_and_explain(described, prompt, character):
    result = described.screen_prompt(prompt)
    assert result.decision == "block", result.to_dict()
    top = result.matches[0]
    assert top.character == character and top.reason == "description"
    view = top.to_dict()
    assert view["reason"] == "description" and view["span"] is None
    assert view["evidence"]["similarity"] > 0 and view["matched"]  # the registered text
    assert result.rewrite is not None and result.negative_terms[0] == character


def test_description_rewrite_drops_the_distinctive_words(described):
    result = described.screen_prompt("a blue robot cat from the future with a magic pocket")
    shared = result.matches[0].evidence["shared_terms"][:3]
    assert shared and not any(term in terms(result.rewrite) for term in shared)


@pytest.mark.parametrize(
    "prompt",
    ["a chain link fence in the rain", "a cat sleeping on a sofa", "a robot vacuum on a carpet",
     "a boy sailing a small boat", "青い空と白い雲"],
)  # fmt: skip
def test_ordinary_prompts_near_the_descriptions_pass(described, prompt):
    assert described.screen_prompt(prompt).decision == "allow", prompt


@pytest.mark.parametrize(
    "prompt, decision, support",
    [
        ("a chain link fence", "allow", None),  # the word, in lower case
        ("Link waving", "review", None),  # capitalised: not enough for an everyday word
        ("a portrait of Link, oil painting", "review", None),
        ("Link", "review", None),  # one everyday word alone ("hope", "fire") is ambiguous
        ("link and Marina Tidewalker on the deck", "block", "another name"),
        ("link with a green knitted cap and a brass spyglass, seagull named Pip", "block",
         "description"),
    ],
)  # fmt: skip
def test_everyday_word_names_need_evidence(described, prompt, decision, support):
    result = described.screen_prompt(prompt)
    assert result.decision == decision, result.to_dict()
    link = [m for m in result.matches if m.character == "Link" and m.reason != "description"]
    assert link and link[0].evidence["needs_evidence"]
    assert link[0].evidence["support"] == support


def test_names_decide_before_the_model_runs(described, monkeypatch):
    screener = described.prompt_screener
    calls = []
    original = screener._cache.embedder.embed
    monkeypatch.setattr(screener._cache.embedder, "embed", lambda t: calls.append(t) or
                        original(t))  # fmt: skip
    assert described.screen_prompt("Nekobot in the rain").decision == "block"
    assert calls == []
    assert described.screen_prompt("a cat in the rain").decision == "allow"
    assert calls == [["a cat in the rain"]]


def test_a_generation_grant_allows_a_described_character(described):
    with described.transaction() as tx:
        buyer = tx.registry.add_licensee("Acme AI", "US")
        tx.ledger.grant(buyer, tx.registry.character("Nekobot"), ["generation"])
    prompt = "a blue robot cat from the future with a magic pocket on its belly"
    result = described.screen_prompt(prompt, licensee="Acme AI")
    assert result.decision == "allow"
    assert result.matches[0].grant is not None


def test_without_a_text_model_names_still_work(described, monkeypatch):
    monkeypatch.setenv("KENRI_TEXT_MODEL", "none")
    app = kenri.open(home=described.settings.home, db=described.settings.db_url)
    assert app.screen_prompt("Nekobot").decision == "block"
    assert (
        app.screen_prompt("a blue robot cat from the future with a magic pocket").decision
        == "allow"
    )


def test_words_joined_across_spaces_are_not_a_split_name(app):
    with app.transaction() as tx:
        work = tx.registry.add_work(tx.registry.add_holder("Tiny Studio", "JP"), "Tiny Tales")
        tx.registry.add_character(work, "Ahat")
        tx.registry.add_character(work, "Pikarin")
    assert app.screen_prompt("a hat on a table").decision != "block"
    assert app.screen_prompt("pika rin at the beach").decision == "block"  # a split name


def _with_characters(app: kenri.Kenri, holder: str, work: str, names: tuple[str, ...]):
    """The app with one holder's work and its characters registered."""
    with app.transaction() as tx:
        registered = tx.registry.add_work(tx.registry.add_holder(holder, "JP"), work)
        for name in names:
            tx.registry.add_character(registered, name)
    return app


@pytest.fixture
def word_names(app):
    return _with_characters(app, "Mesa Works", "Desert Tales", ("Canyon", "Gig", "Isa", "Don"))


@pytest.mark.parametrize(
    "prompt, decision",
    [
        ("a portrait of Canyon, oil painting", "block"),  # capitalised inside a sentence
        ("Canyonが公園で遊ぶ", "block"),  # a capitalised Latin word inside Japanese text
        ("A helicopter flies over the Grand Canyon.", "review"),  # a piece of another name
        ("a photo of the Canyon de Chelly at dusk", "review"),  # a particle inside that name
        ("a poster that says Don't Panic", "allow"),  # a contraction, not the name Don
        ("a portrait of Don, oil painting", "review"),  # the everyday word needs more
        ("A KITCHEN NEAR THE CANYON", "review"),  # capitals everywhere say nothing
        ("a canyon at dusk", "allow"),  # the common noun, in lower case
        ("Canyon, digital art, trending", "block"),  # the tag list's subject, capitalised
        ("canyon, digital art, trending", "allow"),  # the noun, in lower case
        ("Canyon, Digital Art, Trending", "review"),  # every tag capitalised: no evidence
        ("G I G G L E painted on a wall", "allow"),  # letters spelled apart: not all of them
        ("THERE IS A GROUP OF PEOPLE", "allow"),  # "IS A" joined is two words, not "Isa"
        ("a photo of c4ny0n at dusk", "block"),  # no one spells the word so: a hidden name
        ("a photo of Cànyon at dusk", "block"),
        ("a canyonn at dusk", "review"),  # a typo of the common noun: not hidden
    ],
)
def test_capitals_count_as_evidence_only_where_they_mean_a_name(word_names, prompt, decision):
    assert word_names.screen_prompt(prompt).decision == decision


@pytest.fixture
def real_world_names(app):
    """Characters named after real things, as a large registry holds them (Danbooru has
    "jupiter (pokemon)", "anubis (mythology)", "van gogh (fate)")."""
    with app.transaction() as tx:
        holder = tx.registry.add_holder("Namesake Studio", "JP")
        work = tx.registry.add_work(holder, "Namesake Tales")
        for name in (
            "Jupiter",
            "Anubis",
            "Ankh",
            "Van Gogh",
            "Inertia",
            "Siberian Husky",
            "Koala",
            "Rosetta",
            "Hoshimaru",
            "Abbey",
            "Teddy Bear",
        ):
            tx.registry.add_character(work, name)
        both = tx.registry.add_work(holder, "Starlit Kid")
        tx.registry.add_character(both, "Starlit Kid")  # a work and its title character
    return app


@pytest.mark.parametrize(
    "prompt, decision, explained",
    [
        ("the eye of the planet Jupiter", "review", "real-world kind"),
        # A real planet, god or painter is written with a capital too: it says nothing
        ("a portrait of Jupiter, oil painting", "review", None),
        ("a statue of the Egyptian god Anubis wearing goggles", "review", "real-world kind"),
        ("Anubis wearing sunglasses on a motorbike", "review", None),
        ("Anubis and Hoshimaru on a motorbike", "block", None),  # the same work named too
        ("a Koala bear wearing a hat", "review", "part of a noun"),
        ("a portrait of Koala, oil painting", "block", None),
        ("The Rosetta Stone lying in the snow", "review", "part of a noun"),
        ("a portrait of Rosetta, oil painting", "block", None),
        ("a t-shirt with 'ANKH' written on it", "review", "lettering"),
        ("a sweatshirt with 'Big Ankh' written on it", "review", "lettering"),
        ("'Ankh' and a cat", "block", None),  # quoted, but not drawn as letters
        ("a portrait of Ankh, 'hello' written below", "block", None),  # the name is not quoted
        ("a raccoon, oil painting in the style of Vincent Van Gogh", "review", "artist"),
        ("Van Gogh in a spacesuit, digital art", "block", None),
        ("a city in the style of Starlit Kid", "block", None),  # a work's style: the work
        ("inertia", "allow", None),  # the noun alone, in lower case
        ("Inertia", "block", None),  # the capitalised word alone: the name
        ("the Beatles crossing Abbey road", "review", "place name"),
        ("a portrait of Abbey, oil painting", "block", None),
        ("A cake shaped as a Teddy Bear on a wooden table.", "review", "a common noun"),
        ("a photo of Teddy Bear at the beach", "block", None),  # title case, no article
        ("a boy in a Teddy Bear costume", "block", None),  # the article is the costume's
        ("Siberian husky playing the piano.", "review", None),  # a phrase opening a sentence
    ],
)
def test_the_prompt_can_say_a_capital_means_something_else(
    real_world_names, prompt, decision, explained
):
    result = real_world_names.screen_prompt(prompt)
    assert result.decision == decision, result.to_dict()
    named = [m for m in result.matches if m.reason != "description"]
    assert named and named[0].evidence.get("capital_explained_by") == explained


@pytest.fixture
def split_names(app):
    names = ("Vexomar", "Heavyrain", "Grelldor", "Kobbex", "Halflife")
    return _with_characters(app, "Cut Works", "Cut Tales", names)


@pytest.mark.parametrize(
    "prompt, decision",
    [
        ("Vex omar, digital art", "block"),  # pieces that are not both words: a cut name
        ("vex-omar at dusk", "block"),
        ("Grel ldor, digital art", "block"),  # cut at its doubled letter
        ("A bus makes a splash in the heavy rain.", "allow"),  # two words: the words
        ("Heavy rain over the city", "review"),  # capitalised: listed, not blocked
        ("a photo of kob-bex at the beach", "block"),  # a hyphen the name lacks cuts it too
        ("the half-life of radium", "review"),  # a hyphenated noun English has
        ("a photo of half-life at the beach", "review"),
    ],
)
def test_a_name_cut_in_pieces_is_the_name_unless_the_pieces_are_words(
    split_names, prompt, decision
):
    assert split_names.screen_prompt(prompt).decision == decision
