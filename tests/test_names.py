from kenri.registry.names import detect_script, name_key


def test_detect_script():
    assert detect_script("ピカチュウ") == "kana"
    assert detect_script("ドラえもん") == "kana"
    assert detect_script("竈門炭治郎") == "kanji"
    assert detect_script("星丸の冒険") == "kanji"
    assert detect_script("Pikachu") == "latin"
    assert detect_script("Pokémon") == "latin"
    assert detect_script("ＰＩＫＡ") == "latin"
    assert detect_script("피카츄") == "hangul"
    assert detect_script("Пикачу") == "cyrillic"
    assert detect_script("Πίκατσου") == "greek"
    assert detect_script("Pіkachu") == "mixed"  # Cyrillic і hidden in a Latin name
    assert detect_script("123") == "other"


def test_name_key_folds_case_width_and_spaces():
    assert name_key("ＰＩＫＡＣＨＵ ") == name_key("pikachu") == "pikachu"
    assert name_key("Captain   Comet") == "captain comet"
    assert name_key("ﾋﾟｶﾁｭｳ") == name_key("ピカチュウ")


def _found(names: list[str], prompt: str) -> list[tuple[str, str]]:
    from kenri.screening.prompt.names import NameEntry, NameMatcher
    from kenri.screening.prompt.normalize import fold_name

    matcher = NameMatcher(NameEntry(fold_name(n), n, i, i) for i, n in enumerate(names))
    return [(h.entry.text, h.matched(prompt)) for h in matcher.find(prompt)]


def test_a_match_never_starts_inside_one_characters_folding():
    # ミュウ folds to "myu": "yua" would start inside ミュ and end in the next English word
    assert _found(["ミュウ", "yua"], "a photo of ミュウ at the beach") == [("ミュウ", "ミュウ")]
    assert _found(["ピィ", "id"], "ピィ, digital art") == [("ピィ", "ピィ")]


def test_a_latin_end_needs_a_word_boundary_even_next_to_japanese():
    # "of エネコ" folds to "ofeneko": "fenneko" would take the f of "of"
    assert _found(["エネコ", "fenneko"], "a photo of エネコ at the beach") == [("エネコ", "エネコ")]
    assert _found(["Pikachu"], "Pikachuが公園で遊ぶ") == [("Pikachu", "Pikachu")]


def test_a_name_split_at_a_doubled_letter_keeps_both():
    from kenri.screening.prompt.normalize import fold_name, split_variants

    assert fold_name("Grelldor") == "greldor"
    assert split_variants("Grelldor") == {fold_name("Grel ldor")} == {"grelldor"}
    assert split_variants("Flaaffy") == {"flaafy", "flaffy"}
    assert split_variants("Pikachu") == set()
    assert _found(["Grelldor"], "a photo of Grel ldor at dusk") == [("Grelldor", "Grel ldor")]
    assert _found(["Grelldor"], "grel-ldor") == [("Grelldor", "grel-ldor")]


def test_a_single_latin_letter_is_never_a_name_but_a_single_kanji_is():
    # Danbooru registers characters named "a" and "i": in a prompt they are words
    assert _found(["A", "I", "Ｘ", "Aa"], "I saw a cat on a mat, X marks the spot") == []
    assert _found(["零"], "零が公園で遊ぶ") == [("零", "零")]
    # a kana name whose reading folds to one letter is still a name
    assert _found(["ウッウ"], "ウッウ, digital art") == [("ウッウ", "ウッウ")]
