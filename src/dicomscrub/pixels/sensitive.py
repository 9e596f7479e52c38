"""Read detected text lines and decide which of them are PHI (sensitive-text mode).

Recognition uses the PP-OCRv4 recogniser shipped in the ``rapidocr-onnxruntime`` wheel
(0.7 % character error on detected lines in issue 3's measurement). Deciding is
:meth:`dicomscrub.phi.PhiValues.categorize` (exact tokens and PHI-shaped patterns) plus
a fuzzy pass that tolerates what OCR gets wrong: confusable characters (O/0, I/1/l,
S/5, B/8, Z/2, G/6) are folded together and each PHI value may be found as a
substring within an edit budget of about a fifth of its length. Dates of the file are
tried in every common rendering (19700101, 01.01.1970, 1-Jan-1970, Jan 1 1970, ...).
Whatever cannot be read is treated as PHI: the caller redacts it.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from dicomscrub.phi import MONTHS, PhiValues
from dicomscrub.pixels.detect import rapidocr_config
from dicomscrub.pixels.models import derived_model

__all__ = [
    "RapidOcrRecognizer",
    "Reading",
    "Settled",
    "TextRecognizer",
    "classify_reading",
    "classify_text",
    "crop_quad",
    "get_recognizer",
    "is_time_text",
    "recognizer_model",
]

Uint8Image = npt.NDArray[np.uint8]

#: Category reported for a line that could not be read reliably (redacted to be safe).
UNREADABLE: Final = "unreadable"
#: Recognition confidence below which a non-PHI reading is not trusted.
_MIN_SCORE: Final = 0.5
#: Height lines are first read at (the recogniser's native height is _FULL_HEIGHT) ...
_FAST_HEIGHT: Final = 32
_FULL_HEIGHT: Final = 48
#: ... and the score below which a fast reading is redone at the full height.
_RETRY_SCORE: Final = 0.9
#: Calibration inputs are this many heights wide (rapidocr's own 320 / 32).
_CALIBRATION_WIDTH: Final = 10
#: Pixels kept around a line's quad when cropping it (the cubic kernel reaches 2).
_CROP_MARGIN: Final = 4
#: Needles shorter than this are matched exactly only (fuzzy short needles hit everything).
_MIN_FUZZY_LEN: Final = 4
#: Words of institution names too common to identify anyone on their own.
_GENERIC_WORDS: Final = frozenset(
    {
        "HOSPITAL", "CLINIC", "CLINICS", "CENTER", "CENTRE", "MEDICAL", "UNIVERSITY",
        "IMAGING", "INSTITUTE", "RADIOLOGY", "HEALTH", "SAINT", "GENERAL", "MEMORIAL",
        "DEPARTMENT", "DEPT", "ROAD", "STREET", "DRIVE", "LANE", "AVENUE", "SQUARE",
        "LOOP", "PARKWAY", "NORTH", "SOUTH", "EAST", "WEST", "VALLEY", "CITY",
    }
)  # fmt: skip
# OCR confusions folded onto one character, separately for letter and digit needles.
_AS_LETTERS: Final = str.maketrans(
    {"0": "O", "1": "I", "L": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}
)
_AS_DIGITS: Final = str.maketrans(
    {
        "O": "0",
        "Q": "0",
        "D": "0",
        "I": "1",
        "L": "1",
        "T": "7",
        "S": "5",
        "B": "8",
        "Z": "2",
        "G": "6",
    }
)
_TIME_RE: Final = re.compile(r"^\s*\d{1,2}[:.]\d{2}([:.]\d{2})?\s*([AP]M)?\s*$", re.I)
_ALNUM_RE: Final = re.compile(r"[^A-Z0-9]")
_HEADER_CATEGORIES: Final = frozenset({"name", "id", "date", "institution", "other"})


@dataclass(frozen=True)
class Reading:
    """What the recogniser read in one crop, and how sure it was (0..1)."""

    text: str
    score: float


#: Whether a reading already decides its line (a second, slower look cannot change it).
Settled = Callable[[Reading], bool]


class TextRecognizer(Protocol):
    """Reads the text of cropped, horizontal text-line images."""

    def read(self, crops: Sequence[Uint8Image], settled: Settled | None = None) -> list[Reading]:
        """One reading per crop, in order.

        A recogniser that takes a second look at doubtful readings may skip it for the
        readings ``settled`` accepts.
        """
        ...


class RapidOcrRecognizer:
    """PP-OCRv4 text recognition (CRNN/SVTR) on onnxruntime, from rapidocr-onnxruntime.

    The session runs the folded, int8-quantized copy of the shipped model, its output
    layer cut to Latin characters (:func:`recognizer_model`; calibrated on
    :func:`calibration_inputs`): on
    issue 3's line crops 6.9 -> 3.9 ms a line at 32 px (folding 4.8, int8 the rest),
    with 0.9 % of characters read differently from the float model and the benchmark's
    PHI-box recall unchanged.

    Lines are first read at :data:`_FAST_HEIGHT` px high, not the model's native 48:
    the cost grows with the input's area, and on issue 3's benchmark lines 32 px reads
    them in under half the time (13 -> 6 ms a line). Condensed text has too few
    columns at that height and comes out short with a low score, so a reading below
    :data:`_RETRY_SCORE` is read again at 48 px and that reading is kept. rapidocr pads
    every line to at least 320 px wide (at 48 px); short lines ("kV 120", "R") are
    padded only to two glyphs' width, which reads them the same. Batching pads lines to
    the widest of the batch, so lines are read one at a time (batches of similar
    widths: no gain, measured). A doubtful reading that ``settled`` accepts (the caller
    passes "already PHI": a second look never turned one of those into non-PHI on the
    benchmark, 60 of 168 retries) is not read again.
    """

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer as _RapidRec

        config = rapidocr_config(threads)["Rec"]
        config["model_path"] = str(recognizer_model(Path(config["model_path"])))
        config["rec_img_shape"] = [3, _FAST_HEIGHT, 2 * _FAST_HEIGHT]
        config["rec_batch_num"] = 1
        self._fast = _RapidRec(config)
        # The same ONNX session (the model accepts any height), fed at its native height.
        self._full = copy.copy(self._fast)
        self._full.rec_image_shape = [3, _FULL_HEIGHT, 2 * _FULL_HEIGHT]

    def read(self, crops: Sequence[Uint8Image], settled: Settled | None = None) -> list[Reading]:
        """Readings of BGR or grey crops."""
        import cv2

        if not crops:
            return []
        images: list[Uint8Image] = [
            np.asarray(cv2.cvtColor(c, cv2.COLOR_GRAY2BGR), np.uint8) if c.ndim == 2 else c
            for c in crops
        ]
        results, _ = self._fast(images)
        readings = [Reading(str(text), float(score)) for text, score, *_ in results]
        retry = [
            i
            for i, r in enumerate(readings)
            if r.score < _RETRY_SCORE and (settled is None or not settled(r))
        ]
        if retry:
            again, _ = self._full([images[i] for i in retry])
            for i, (text, score, *_) in zip(retry, again, strict=True):
                readings[i] = Reading(str(text), float(score))
        return readings


def recognizer_model(shipped: Path) -> Path:
    """The recogniser model file to run: ``shipped`` folded, int8, Latin classes only."""
    return derived_model(shipped, calibration=calibration_inputs, latin_only=True)


#: Texts the int8 recogniser's activation ranges are calibrated on (burned-in styles).
_CALIBRATION_TEXTS: Final = (
    "HARTMANN^GRETA", "ID: 4032748", "DOB 1970-01-01", "07.11.2023 09:15:02",
    "Hollowmere University Medical Center", "kVp 120 mAs 250", "L", "R", "5 cm",
    "Acc A970643", "Dr. Vossberg", "Jan 1 1970", "SE 3 IM 42", "W:400 L:40",
    "ABDOMEN", "Gain 54dB  DR 60", "PHILIPS iU22", "(555) 123-4567", "FR 27Hz",
)  # fmt: skip


def calibration_inputs() -> list[npt.NDArray[np.float32]]:
    """Recogniser inputs for quantization: rendered text lines in burned-in styles.

    Light and dark text on flat, noisy and speckled grounds, normalised as the
    recogniser feeds them at :data:`_FAST_HEIGHT`, all padded to one width (percentile
    calibration needs one shape). Deterministic.
    """
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(0)
    out: list[npt.NDArray[np.float32]] = []
    for i, text in enumerate(_CALIBRATION_TEXTS * 3):
        font = ImageFont.load_default(size=int(rng.integers(9, 30)))
        left, top, right, bottom = (int(v) for v in font.getbbox(text))
        ink = Image.new("L", (right - left + 8, bottom - top + 8), 0)
        ImageDraw.Draw(ink).text((4 - left, 4 - top), text, fill=255, font=font)
        alpha = np.asarray(ink, np.float32) / 255.0
        noise = float(rng.choice([0.5, 4.0, 15.0]))
        ground = rng.uniform(0, 90) + rng.normal(0, noise, alpha.shape)
        grey = ground + alpha * (rng.uniform(150, 255) - ground)
        if i % 4 == 3:  # dark text on a light ground
            grey = 255.0 - grey
        out.append(_normalised(np.clip(grey, 0, 255).astype(np.uint8), _FAST_HEIGHT))
    return out


def _normalised(image: Uint8Image, height: int) -> npt.NDArray[np.float32]:
    """Grey ``image`` as a recogniser input ``height`` high and 10 heights wide.

    Prepared as rapidocr prepares a line: resized to ``height`` (narrowed to fit if
    longer), scaled to -1..1, right-padded with 0.
    """
    import cv2

    limit = _CALIBRATION_WIDTH * height
    width = min(limit, max(1, math.ceil(height * image.shape[1] / image.shape[0])))
    resized = np.asarray(cv2.resize(image, (width, height)), np.float32) / 127.5 - 1.0
    tensor = np.zeros((1, 3, height, limit), np.float32)
    tensor[0, :, :, :width] = resized
    return tensor


@cache
def get_recognizer(threads: int = 1) -> RapidOcrRecognizer:
    """The process-wide recogniser for ``threads`` (the ONNX session is built once)."""
    return RapidOcrRecognizer(threads)


def crop_quad(image: Uint8Image, quad: npt.NDArray[np.float32]) -> Uint8Image:
    """The text line inside ``quad`` warped to an upright rectangle (BGR if colour)."""
    import cv2

    pts = quad.astype(np.float32)
    width = int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3])))
    height = int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2])))
    width, height = max(width, 1), max(height, 1)
    # Warp from the quad's neighbourhood only: copying a whole RGB frame into BGR order
    # for each line cost ~20 ms per ultrasound frame. The margin covers the cubic
    # kernel, and the frame's own edges still replicate, so the pixels are the same.
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - _CROP_MARGIN, 0)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + _CROP_MARGIN + 1
    pts = pts - np.array([x0, y0], dtype=np.float32)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(pts, target)
    near = image[y0:y1, x0:x1]
    src = near[..., ::-1] if image.ndim == 3 else near  # recogniser expects BGR
    warped = cv2.warpPerspective(
        np.ascontiguousarray(src),
        matrix,
        (width, height),
        borderMode=cv2.BORDER_REPLICATE,
        flags=cv2.INTER_CUBIC,
    )
    return np.asarray(warped, np.uint8)


def _substring_distance(needle: str, text: str) -> int:
    """Fewest edits turning ``needle`` into some substring of ``text`` (Sellers)."""
    if not needle:
        return 0
    prev = [0] * (len(text) + 1)
    for i, nc in enumerate(needle, 1):
        cur = [i] + [0] * len(text)
        for j, tc in enumerate(text, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (nc != tc))
        prev = cur
    return min(prev)


def _budget(needle: str) -> int:
    return max(1, round(0.2 * len(needle))) if len(needle) >= 6 else 1


@lru_cache(maxsize=4096)
def _char_counts(text: str) -> Counter[str]:
    return Counter(text)


def _fuzzy_in(needles: Sequence[str], text: str) -> bool:
    have = _char_counts(text)
    for n in needles:
        budget = _budget(n)
        if len(n) < _MIN_FUZZY_LEN or len(text) < len(n) - budget:
            continue
        # Each needle character the text lacks costs at least one edit: a cheap lower
        # bound that spares most of the (quadratic, pure Python) distance computations.
        missing = sum(max(0, k - have[c]) for c, k in _char_counts(n).items())
        if missing <= budget and _substring_distance(n, text) <= budget:
            return True
    return False


def _compact(text: str) -> str:
    return _ALNUM_RE.sub("", text.upper())


def _date_forms(day: dt.date) -> list[str]:
    """``day`` as the compact (alphanumeric only) strings scanners render it as."""
    y, yy, m, d = f"{day.year:04d}", f"{day.year % 100:02d}", f"{day.month:02d}", f"{day.day:02d}"
    mon = MONTHS[day.month - 1]
    numeric = [y + m + d, d + m + y, m + d + y, yy + m + d, d + m + yy, m + d + yy]
    named = [d + mon + y, str(day.day) + mon + y, mon + d + y, mon + str(day.day) + y, y + mon + d]
    return numeric + named


@dataclass(frozen=True)
class _Needles:
    letters: tuple[str, ...]  # names and institution words, folded as letters
    letter_category: tuple[str, ...]
    digits: tuple[str, ...]  # ids and numeric dates, folded as digits
    digit_category: tuple[str, ...]
    named_dates: tuple[str, ...]  # dates with a month name, compact


@lru_cache(maxsize=32)
def _needles(phi: PhiValues) -> _Needles:
    letters: dict[str, str] = {}
    digits: dict[str, str] = {}
    for name in phi.names:
        for part in [name, *name.replace(",", " ").split()]:
            letters.setdefault(_compact(part).translate(_AS_LETTERS), "name")
    for place in phi.institutions:
        for word in place.replace(",", " ").split():
            if _compact(word) not in _GENERIC_WORDS:
                letters.setdefault(_compact(word).translate(_AS_LETTERS), "institution")
    for ident in phi.ids:
        compact = _compact(ident)
        if sum(ch.isdigit() for ch in compact) >= len(compact) / 2:
            digits.setdefault(compact.translate(_AS_DIGITS), "id")
        else:
            letters.setdefault(compact.translate(_AS_LETTERS), "id")
    named: list[str] = []
    for day in phi.dates:
        for form in _date_forms(day):
            if form.isdigit():
                digits.setdefault(form, "date")
            else:
                named.append(form)
    return _Needles(
        letters=tuple(letters),
        letter_category=tuple(letters.values()),
        digits=tuple(digits),
        digit_category=tuple(digits.values()),
        named_dates=tuple(named),
    )


@lru_cache(maxsize=4096)
def classify_text(text: str, phi: PhiValues) -> str | None:
    """The PHI category of recognised ``text`` (exact, pattern or fuzzy match), or None.

    A match on the file's own values wins over a generic pattern (``long-number``,
    ``phone``, ``email``), so a misread ID is still reported as ``id``.
    """
    exact = phi.categorize(text)
    if exact in _HEADER_CATEGORIES:
        return exact
    return _fuzzy_category(text, phi) or exact


def _fuzzy_category(text: str, phi: PhiValues) -> str | None:
    compact = _compact(text)
    if not compact:
        return None
    needles = _needles(phi)
    as_letters = compact.translate(_AS_LETTERS)
    for needle, category in zip(needles.letters, needles.letter_category, strict=True):
        if _fuzzy_in((needle,), as_letters):
            return category
    as_digits = compact.translate(_AS_DIGITS)
    for needle, category in zip(needles.digits, needles.digit_category, strict=True):
        if _fuzzy_in((needle,), as_digits):
            return category
    if _fuzzy_in(needles.named_dates, compact):
        return "date"
    # Date-shaped after fixing confusions (e.g. "2O24-O1-15" read with letter O).
    upper = text.upper()
    digit_view = "".join(
        ch.translate(_AS_DIGITS) if ch.isalpha() and _neighbours_digits(upper, i) else ch
        for i, ch in enumerate(upper)
    )
    if digit_view != upper:
        return phi.categorize(digit_view)
    return None


def _neighbours_digits(text: str, index: int) -> bool:
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return before.isdigit() or after.isdigit()


def is_time_text(text: str) -> bool:
    """Whether ``text`` is a time of day alone (``07:12``, ``7.12.45 PM``)."""
    return bool(_TIME_RE.match(text))


def classify_reading(readings: Sequence[Reading], phi: PhiValues) -> str | None:
    """Category of a line read one or more ways (e.g. both rotations of vertical text).

    PHI if any reading matches; :data:`UNREADABLE` if no reading is confident and
    non-empty; None when a confident reading is plainly not PHI.
    """
    for reading in readings:
        category = classify_text(reading.text, phi)
        if category is not None:
            return category
    if not any(r.score >= _MIN_SCORE and _compact(r.text) for r in readings):
        return UNREADABLE
    return None
