"""Deciding whether recognised text is PHI: every date format, OCR errors, labels kept."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

from dicomscrub.phi import PhiValues
from dicomscrub.pixels import models
from dicomscrub.pixels.detect import _model_dir, is_available
from dicomscrub.pixels.sensitive import (
    UNREADABLE,
    Reading,
    classify_reading,
    classify_text,
    crop_quad,
    get_recognizer,
    is_time_text,
)
from dicomscrub.synthetic.burned_text import _render

PHI = PhiValues(
    names=("HARTMANN", "GRETA", "HARTMANN GRETA", "GRETA HARTMANN", "HARTMANN, GRETA", "VOSSBERG"),
    ids=("4032748", "A970643"),
    dates=(dt.date(1970, 1, 1), dt.date(2023, 11, 7)),
    institutions=("HOLLOWMERE UNIVERSITY MEDICAL CENTER",),
)


@pytest.mark.parametrize(
    "text",
    [
        "19700101",
        "1970-01-01",
        "01/01/1970",
        "01.01.1970",
        "1-Jan-1970",
        "Jan 1 1970",
        "01-JAN-1970",
        "DOB: 1970/01/01",
        "Birth 01011970",
        "07 Nov 2023",
        "Nov 7, 2023",
        "2023-11-07 14:32",
        "07.11.2023 09:15:02",
        "11/07/2023",
    ],
)
def test_every_date_format_is_phi(text: str) -> None:
    assert classify_text(text, PHI) == "date"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("HARTMANN^GRETA", "name"),
        ("Greta Hartmann", "name"),
        ("hartmann, greta", "name"),
        ("HARTMANN", "name"),
        ("Dr. Vossberg", "name"),
        ("ID: 4032748", "id"),
        ("Acc A970643", "id"),
        ("Hollowmere Univ", "institution"),
    ],
)
def test_header_values_are_phi(text: str, category: str) -> None:
    assert classify_text(text, PHI) == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("HARTMAMN GRETA", "name"),  # N read as M
        ("HARTNANN", "name"),
        ("GRE7A HARTMANN", "name"),
        ("HARTMANN~GRETA", "name"),  # ^ read as ~
        ("ID: 4O32748", "id"),  # 0 read as O
        ("ID: 4032I48", "id"),  # 7 read as I
        ("ID 403Z748", "id"),
        ("I97OO1O1", "date"),  # 1 -> I, 0 -> O
        ("197O-0l-01", "date"),
        ("DOB 197001O1", "date"),
        ("H0LL0WMERE", "institution"),
        ("0l-JAN-l970", "date"),
    ],
)
def test_ocr_errors_still_match(text: str, category: str) -> None:
    assert classify_text(text, PHI) == category


@pytest.mark.parametrize(
    "text",
    ["+49 30 1234 5678", "greta@example.org", "Tel 0301234567", "3029384756", "12/03/2019"],
)
def test_phi_shaped_patterns_match_without_header_values(text: str) -> None:
    assert classify_text(text, PhiValues()) is not None


@pytest.mark.parametrize(
    "text",
    [
        "L",
        "R",
        "kVp 120",
        "120 kVp",
        "mAs 200",
        "AXIAL",
        "LIVER",
        "RT KIDNEY",
        "Thyroid",
        "W:400 L:40",
        "Se:3 Im:45",
        "5.0mm",
        "10 cm",
        "MI 1.2",
        "TIs 0.4",
        "Gain 50",
        "FR 25Hz",
        "PORTABLE AP SUPINE",
        "C5-1",
    ],
)
def test_non_phi_labels_are_kept(text: str) -> None:
    assert classify_text(text, PHI) is None


def test_unreadable_lines_are_redacted() -> None:
    assert classify_reading([Reading("", 0.0)], PHI) == UNREADABLE
    assert classify_reading([Reading("kVp 120", 0.2)], PHI) == UNREADABLE
    assert classify_reading([Reading("kVp 120", 0.95)], PHI) is None
    assert classify_reading([Reading("xx", 0.1), Reading("HARTMANN", 0.3)], PHI) == "name"


@pytest.mark.parametrize(
    ("text", "expected"), [("07:12", True), ("7.12.45 PM", True), ("7 cm", False)]
)
def test_time_text(text: str, expected: bool) -> None:
    assert is_time_text(text) is expected


@pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")
def test_recogniser_reads_a_rendered_line() -> None:
    alpha = _render("HARTMANN GRETA 1970-01-01", "bundled", 16)
    image = np.zeros((alpha.shape[0] + 10, alpha.shape[1] + 10), np.uint8)
    image[5:-5, 5:-5] = (alpha * 255).astype(np.uint8)
    h, w = image.shape
    quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    (reading,) = get_recognizer().read([crop_quad(image, quad)])
    assert reading.score > 0.5
    assert classify_text(reading.text, PHI) in ("name", "date")


@pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")
@pytest.mark.parametrize("text", ["R", "kV 120", "HARTMANN"])
def test_short_lines_read_without_wide_padding(text: str) -> None:
    alpha = _render(text, "bundled", 16)
    image = np.zeros((alpha.shape[0] + 10, alpha.shape[1] + 10), np.uint8)
    image[5:-5, 5:-5] = (alpha * 255).astype(np.uint8)
    h, w = image.shape
    quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    (reading,) = get_recognizer().read([crop_quad(image, quad)])
    assert reading.text.replace(" ", "") == text.replace(" ", "")


@pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")
def test_condensed_lines_are_reread_at_full_height() -> None:
    import cv2

    # Glyphs this narrow have too few columns at the fast 32 px height ("HLMSI"); the
    # low score sends the line to the full-height pass, which reads it.
    squeeze = 0.4

    alpha = _render("HOLLOWMERE UNIVERSITY", "bundled", 15)
    line = (alpha * 255).astype(np.uint8)
    size = (round(line.shape[1] * squeeze), line.shape[0])
    line = np.asarray(cv2.resize(line, size, interpolation=cv2.INTER_AREA), np.uint8)
    image = np.zeros((line.shape[0] + 6, line.shape[1] + 6), np.uint8)
    image[3:-3, 3:-3] = line
    h, w = image.shape
    quad = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    (reading,) = get_recognizer().read([crop_quad(image, quad)])
    assert classify_text(reading.text, PHI) == "institution"


def test_crop_quad_of_a_colour_frame_matches_warping_the_whole_frame() -> None:
    import cv2

    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(120, 200, 3), dtype=np.uint8)
    for quad in (
        np.array([[30, 40], [150, 44], [149, 70], [29, 66]], np.float32),  # tilted, inside
        np.array([[0, 0], [60, 0], [60, 20], [0, 20]], np.float32),  # at the frame's corner
        np.array([[180, 90], [199, 90], [199, 119], [180, 119]], np.float32),  # bottom right
    ):
        crop = crop_quad(image, quad)
        h, w = crop.shape[:2]
        target = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        reference = cv2.warpPerspective(
            np.ascontiguousarray(image[..., ::-1]),
            cv2.getPerspectiveTransform(quad, target),
            (w, h),
            borderMode=cv2.BORDER_REPLICATE,
            flags=cv2.INTER_CUBIC,
        )
        # Cubic interpolation rounds in fixed point relative to the source's origin, so
        # a cut-out can differ by one grey level (OpenCV 5; 4.x gave equal arrays).
        difference = np.abs(crop.astype(np.int16) - reference.astype(np.int16))
        assert difference.max() <= 1
        assert np.count_nonzero(difference) <= difference.size // 100


def _characters(model: object) -> list[str]:
    props = model.metadata_props  # type: ignore[attr-defined]
    return str(next(p.value for p in props if p.key == "character")).splitlines()


def _line_input(text: str) -> np.ndarray:
    """``text`` rendered white on black, as a recogniser input 32 px high."""
    import cv2

    grey = (_render(text, "bundled", 20) * 255).astype(np.uint8)
    width = int(np.ceil(32 * grey.shape[1] / grey.shape[0]))
    resized = cv2.resize(grey, (width, 32)).astype(np.float32) / 127.5 - 1.0
    return np.repeat(resized[None, None], 3, axis=1).astype(np.float32)


def _greedy_reading(model: object, x: np.ndarray) -> str:
    import onnxruntime as ort

    data = model.SerializeToString()  # type: ignore[attr-defined]
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    best = session.run(None, {session.get_inputs()[0].name: x})[0][0].argmax(axis=1)
    classes = ["", *_characters(model), " "]
    kept = [i for t, i in enumerate(best) if i != 0 and (t == 0 or i != best[t - 1])]
    return "".join(classes[i] for i in kept)


@pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")
def test_latin_output_layer_reads_latin_lines_as_the_full_one() -> None:
    onnx = pytest.importorskip("onnx")
    path = str(_model_dir() / "ch_PP-OCRv4_rec_infer.onnx")
    full = models.fold_graph(onnx.load(path))
    latin = models.latin_output(models.fold_graph(onnx.load(path)))
    kept = _characters(latin)
    assert 100 < len(kept) < 200 < len(_characters(full))
    assert set("AZaz09:/-.,^") <= set(kept)
    assert all(len(c) == 1 and ord(c) < 0x250 for c in kept)
    for text in ("HARTMANN^GRETA", "DOB 1970-01-01", "Acc A970643"):
        x = _line_input(text)
        got = _greedy_reading(latin, x)
        assert got == _greedy_reading(full, x)
        assert re.sub(r"[\W_]", "", got) == re.sub(r"[\W_]", "", text)


def test_latin_output_leaves_an_unknown_layout_alone() -> None:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "other",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph)
    before = model.SerializeToString()
    assert models.latin_output(model).SerializeToString() == before
