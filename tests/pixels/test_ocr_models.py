"""Derived OCR models: exact graph folding, the on-disk cache and its fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicomscrub.pixels import models
from dicomscrub.pixels.detect import _model_dir
from dicomscrub.pixels.detect import is_available as ocr_available

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

needs_models = pytest.mark.skipif(not ocr_available(), reason="rapidocr-onnxruntime not installed")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def _run_all(model: onnx.ModelProto | Path, x: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` on input ``x``."""
    data = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return [np.asarray(y) for y in session.run(None, {session.get_inputs()[0].name: x})]


def _run(model: onnx.ModelProto | Path, x: np.ndarray) -> np.ndarray:
    """The first output of ``model`` on input ``x``."""
    return _run_all(model, x)[0]


def _const(name: str, value: float, *, scalar: bool = False) -> onnx.NodeProto:
    """A constant of shape [1] as Paddle exports them (``scalar``: shape [], for Clip)."""
    array = np.array(value if scalar else [value], np.float32)
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name))


def _lcnet_block() -> onnx.ModelProto:
    """Conv -> affine -> hard-swish -> affine -> {padded 3x3 conv, 1x1 conv}, as Paddle exports."""
    rng = np.random.default_rng(1)
    w1 = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(size=(4, 1, 3, 3)).astype(np.float32)  # depthwise, zero-padded
    w3 = rng.normal(size=(5, 4, 1, 1)).astype(np.float32)
    nodes = [
        _const("s1", 1.7),
        _const("b1", 0.3),
        _const("three", 3.0),
        _const("zero", 0.0, scalar=True),
        _const("six", 6.0, scalar=True),
        _const("six1", 6.0),
        _const("s2", 0.4),
        _const("b2", -0.25),
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["s1", "c1"], ["m1"]),
        helper.make_node("Add", ["m1", "b1"], ["a1"]),
        helper.make_node("Add", ["a1", "three"], ["h0"]),
        helper.make_node("Clip", ["h0", "zero", "six"], ["h1"]),
        helper.make_node("Mul", ["a1", "h1"], ["h2"]),
        helper.make_node("Div", ["h2", "six1"], ["hs"]),
        helper.make_node("Mul", ["s2", "hs"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["a2"]),
        helper.make_node("Conv", ["a2", "w2"], ["y"], pads=[1, 1, 1, 1], group=4),
        helper.make_node("Conv", ["hs", "w3"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes,
        "block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 10])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 10]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 5, 8, 10]),
        ],
        initializer=[
            numpy_helper.from_array(w, n) for w, n in ((w1, "w1"), (w2, "w2"), (w3, "w3"))
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)], ir_version=7)


def test_folding_keeps_outputs_and_drops_the_elementwise_chain() -> None:
    model = _lcnet_block()
    x = np.random.default_rng(2).normal(size=(1, 3, 8, 10)).astype(np.float32) * 3
    expected = _run_all(model, x)
    folded = models.fold_graph(model)
    onnx.checker.check_model(folded)
    ops = [n.op_type for n in folded.graph.node]
    assert "Clip" not in ops and "Div" not in ops and "Constant" not in ops
    assert ops.count("HardSigmoid") == 1
    # One Add survives: the shift in front of the zero-padded depthwise convolution.
    assert ops.count("Add") == 1
    for want, got in zip(expected, _run_all(folded, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_hard_swish_nodes_fuse_the_gate_and_keep_outputs() -> None:
    folded = models.fold_graph(_lcnet_block())
    # A plain HardSigmoid (ONNX's default slope) beside it is not a hard-swish gate.
    folded.graph.node.append(helper.make_node("HardSigmoid", ["z"], ["g"]))
    folded.graph.output.append(helper.make_tensor_value_info("g", TensorProto.FLOAT, None))
    x = np.random.default_rng(4).normal(size=(1, 3, 8, 10)).astype(np.float32) * 3
    expected = _run_all(folded, x)
    fused = models.hard_swish_nodes(folded)
    onnx.checker.check_model(fused)
    ops = [n.op_type for n in fused.graph.node]
    assert ops.count("HardSwish") == 1 and ops.count("HardSigmoid") == 1
    assert max(o.version for o in fused.opset_import if o.domain in ("", "ai.onnx")) >= 14
    for want, got in zip(expected, _run_all(fused, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@needs_models
@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 64, 96)),
        ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 32, 96)),
    ],
)
def test_folded_shipped_models_match_the_originals(name: str, shape: tuple[int, ...]) -> None:
    source = _model_dir() / name
    x = np.random.default_rng(3).uniform(-1, 1, size=shape).astype(np.float32)
    want = _run(source, x)
    got = _run(models.fold_graph(onnx.load(str(source))), x)
    np.testing.assert_allclose(got, want, atol=1e-4)


@needs_models
def test_derived_model_is_cached_once_and_written_whole(_isolated_cache: Path) -> None:
    source = _model_dir() / "ch_PP-OCRv4_det_infer.onnx"
    first = models.derived_model(source)
    assert first != source
    assert first.parent == _isolated_cache / "dicomscrub" / "models"
    assert first.name.startswith("ch_PP-OCRv4_det_infer.folded.")
    stamp = first.stat().st_mtime_ns
    assert models.derived_model(source) == first
    assert first.stat().st_mtime_ns == stamp  # read from the cache, not derived again
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary left
    onnx.checker.check_model(onnx.load(str(first)))


@needs_models
def test_cache_key_follows_the_source_file(tmp_path: Path) -> None:
    source = _model_dir() / "ch_PP-OCRv4_det_infer.onnx"
    model = onnx.load(str(source))
    model.doc_string = "another build of the same model"
    copy = tmp_path / source.name
    onnx.save(model, str(copy))
    assert models.derived_model(copy).name != models.derived_model(source).name


@needs_models
def test_unwritable_cache_falls_back_to_the_shipped_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    source = _model_dir() / "ch_PP-OCRv4_det_infer.onnx"
    assert models.derived_model(source) == source


def test_cache_dir_follows_xdg_or_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert models.cache_dir() == tmp_path / "dicomscrub" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert models.cache_dir() == tmp_path / "home" / ".cache" / "dicomscrub" / "models"
