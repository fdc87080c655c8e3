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
