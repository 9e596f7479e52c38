"""Synthetic burned-in text: CT, ultrasound and X-ray-like frames with known text boxes.

Text is rendered with Pillow (its bundled font, DejaVu when ``fonts-dejavu-core`` is
installed, and the built-in bitmap font) and alpha-blended into the stored pixel values,
so the ground truth is the tight box of the ink. Each box says whether its text is PHI
and of which category, so detection and PHI matching can be scored (tests, benchmarks,
the demo). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pydicom
from PIL import Image, ImageDraw, ImageFont

from dicomscrub.pixels.types import FrameMeta
from dicomscrub.synthetic._pools import (
    INSTITUTIONS,
    PATIENT_FAMILY_NAMES,
    PATIENT_GIVEN_NAMES,
    STAFF_FAMILY_NAMES,
)

__all__ = [
    "IMAGE_KINDS",
    "GroundTruthBox",
    "SyntheticPatient",
    "burn_text",
    "make_background",
    "make_burned_image",
    "patient_for_seed",
]

#: Image kinds :func:`make_burned_image` knows; the ``*_low`` ones use low-contrast text.
IMAGE_KINDS: Final = ("ct", "ct_low", "sizes", "us", "us_low", "xr")

_DEJAVU: Final = Path("/usr/share/fonts/truetype/dejavu")
_BITMAP: Final = "bitmap"
_BUNDLED: Final = "bundled"

FloatImage = npt.NDArray[np.float32]
Alpha = npt.NDArray[np.float32]


@dataclass(frozen=True)
class GroundTruthBox:
    """The tight ink box of one burned-in text item (columns ``x0..x1-1``, rows ``y0..y1-1``).

    ``category`` is the PHI category (``"name"``, ``"id"``, ``"date"``, ``"institution"``)
    when ``phi`` is true, else None.
    """

    x0: int
    y0: int
    x1: int
    y1: int
    text: str
    phi: bool
    category: str | None
    size: int
    rotation: int = 0
    low_contrast: bool = False


@dataclass(frozen=True)
class SyntheticPatient:
    """The header values whose text is burned into a synthetic image."""

    family: str
    given: str
    patient_id: str
    accession: str
    birth_date: datetime.date
    study_date: datetime.date
    institution: str
    physician: str

    def apply_to(self, ds: pydicom.Dataset) -> None:
        """Write these values into ``ds`` under their DICOM keywords."""
        ds.PatientName = f"{self.family}^{self.given}"
        ds.PatientID = self.patient_id
        ds.AccessionNumber = self.accession
        ds.PatientBirthDate = self.birth_date.strftime("%Y%m%d")
        ds.StudyDate = self.study_date.strftime("%Y%m%d")
        ds.InstitutionName = self.institution
        ds.ReferringPhysicianName = f"{self.physician}^"


def patient_for_seed(seed: int) -> SyntheticPatient:
    """The synthetic patient of the image made with ``seed`` (same seed, same patient)."""
    r = random.Random(seed * 7919 + 17)
    return SyntheticPatient(
        family=r.choice(PATIENT_FAMILY_NAMES),
        given=r.choice(PATIENT_GIVEN_NAMES),
        patient_id="".join(r.choice("0123456789") for _ in range(r.choice((7, 8, 9)))),
        accession=f"{r.choice('ABCX')}{r.randint(100000, 999999)}",
        birth_date=datetime.date(r.randint(1935, 2015), r.randint(1, 12), r.randint(1, 28)),
        study_date=datetime.date(r.randint(2019, 2025), r.randint(1, 12), r.randint(1, 28)),
        institution=r.choice(INSTITUTIONS)[0],
        physician=r.choice(STAFF_FAMILY_NAMES),
    )


def _date_text(r: random.Random, d: datetime.date) -> str:
    """``d`` in one of the formats scanners burn in."""
    month = d.strftime("%b")
    return r.choice(
        (
            f"{d:%Y%m%d}",
            f"{d:%Y-%m-%d}",
            f"{d:%d/%m/%Y}",
            f"{d:%m/%d/%Y}",
            f"{d:%d.%m.%Y}",
            f"{d.day}-{month}-{d.year}",
            f"{month} {d.day} {d.year}",
            f"{d:%d}-{month.upper()}-{d.year}",
            f"{d:%Y/%m/%d}",
        )
    )


def _phi_texts(r: random.Random, p: SyntheticPatient) -> list[tuple[str, str]]:
    """(text, category) of the PHI lines of one image, in a scanner-like variety of forms."""
    name = r.choice(
        (
            f"{p.family}^{p.given}",
            f"{p.family}, {p.given}",
            f"{p.given.title()} {p.family.title()}",
            f"{p.family} {p.given}",
        )
    )
    pid = r.choice((f"ID: {p.patient_id}", f"MRN {p.patient_id}", f"PID:{p.patient_id}"))
    dob = r.choice(("DOB ", "DOB: ", "Birth ", "")) + _date_text(r, p.birth_date)
    study = _date_text(r, p.study_date)
    if r.random() < 0.6:
        study += f" {r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
    words = p.institution.split()
    hosp = " ".join(words[: r.choice((2, 3, len(words)))])
    return [
        (name, "name"),
        (pid, "id"),
        (dob, "date"),
        (study, "date"),
        (hosp, "institution"),
        (f"Acc {p.accession}", "id"),
        (f"Dr. {p.physician.title()}", "name"),
    ]


def _label_texts(r: random.Random, kind: str) -> list[str]:
    """Non-PHI text typical of ``kind`` (technique, orientation, scale, anatomy)."""
    if kind.startswith("ct") or kind == "sizes":
        return [
            f"kV {r.choice((80, 100, 120, 140))}",
            f"mAs {r.randint(50, 400)}",
            f"W:{r.choice((400, 350, 1500))} L:{r.choice((40, 50, 300))}",
            f"Se:{r.randint(1, 9)} Im:{r.randint(1, 300)}",
            f"{r.choice((1.0, 2.5, 5.0))}mm",
            "AXIAL",
            "HEAD",
            "CHEST",
        ]
    if kind.startswith("us"):
        return [
            f"MI {r.randint(2, 15) / 10:.1f}",
            f"TIs {r.randint(1, 9) / 10:.1f}",
            r.choice(("C5-1", "L12-5", "P4-2")),
            f"Gain {r.randint(30, 70)}",
            f"DR {r.choice((55, 60, 65))}",
            f"FR {r.randint(10, 60)}Hz",
            f"{r.randint(5, 20)} cm",
            r.choice(("Abdomen", "Thyroid", "Cardiac")),
        ]
    return [f"{r.randint(60, 120)} kVp", f"{r.randint(2, 20)} mAs", "PORTABLE", "SUPINE", "AP"]


@cache
def _fonts() -> tuple[str, ...]:
    """Font identifiers available here: Pillow's bundled font, DejaVu, the bitmap font."""
    found = [_BUNDLED]
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        if (_DEJAVU / name).exists():
            found.append(str(_DEJAVU / name))
    found.append(_BITMAP)
    return tuple(found)


def _font(font: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if font == _BITMAP:
        return ImageFont.load_default_imagefont()
    if font == _BUNDLED:
        loaded = ImageFont.load_default(size=size)
        if isinstance(loaded, ImageFont.FreeTypeFont):
            return loaded
        # Pillow built without FreeType: its bitmap font is all there is.
        return ImageFont.load_default_imagefont()
    return ImageFont.truetype(font, size)


def _render(text: str, font: str, size: int, rotation: int = 0) -> Alpha:
    """Alpha (0..1) of ``text``, cropped to its ink, rotated by 0/90/270 degrees."""
    f = _font(font, size)
    left, top, right, bottom = (int(v) for v in f.getbbox(text))
    im = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(im).text((2 - left, 2 - top), text, fill=255, font=f)
    a = np.asarray(im, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(a > 0.02)
    a = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    if rotation:
        a = np.rot90(a, rotation // 90).copy()
    return a


class _Canvas:
    """A float image being written on, with the boxes already used."""

    def __init__(self, img: FloatImage) -> None:
        self.img = img.astype(np.float32)
        self.h, self.w = img.shape[:2]
        self.occupied = np.zeros((self.h, self.w), bool)
        self.truths: list[GroundTruthBox] = []

    def burn(
        self,
        alpha: Alpha,
        x: int,
        y: int,
        value: float | tuple[float, float, float],
        truth: GroundTruthBox,
        margin: int = 3,
    ) -> bool:
        """Blend ``alpha`` at (x, y) unless it leaves the image or overlaps other text."""
        h, w = alpha.shape
        if x < 0 or y < 0 or x + w > self.w or y + h > self.h:
            return False
        if self.occupied[
            max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin
        ].any():
            return False
        region = self.img[y : y + h, x : x + w]
        a = alpha[..., None] if region.ndim == 3 else alpha
        val = np.asarray(value, np.float32)
        self.img[y : y + h, x : x + w] = region * (1 - a) + val * a
        self.occupied[y : y + h, x : x + w] = True
        ys, xs = np.nonzero(alpha >= 0.25)
        self.truths.append(
            GroundTruthBox(
                x0=int(x + xs.min()),
                y0=int(y + ys.min()),
                x1=int(x + xs.max() + 1),
                y1=int(y + ys.max() + 1),
                text=truth.text,
                phi=truth.phi,
                category=truth.category,
                size=truth.size,
                rotation=truth.rotation,
                low_contrast=truth.low_contrast,
            )
        )
        return True

    def burn_somewhere(
        self,
        r: random.Random,
        alpha: Alpha,
        region: tuple[int, int, int, int],
        value: float | tuple[float, float, float],
        truth: GroundTruthBox,
        tries: int = 60,
    ) -> bool:
        h, w = alpha.shape
        x0, y0, x1, y1 = region
        if x1 - w <= x0 or y1 - h <= y0:
            return False
        for _ in range(tries):
            if self.burn(alpha, r.randint(x0, x1 - w), r.randint(y0, y1 - h), value, truth):
                return True
        return False


def _smooth_noise(
    rng: np.random.Generator, h: int, w: int, scale: int, octaves: int = 3
) -> FloatImage:
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in range(octaves):
        s = max(2, scale >> o)
        small = rng.standard_normal((h // s + 2, w // s + 2)).astype(np.float32)
        big = np.asarray(
            Image.fromarray(small).resize((w + 2 * s, h + 2 * s), Image.Resampling.BICUBIC)
        )
        out += amp * big[s : s + h, s : s + w]
        amp *= 0.5
    return out


def _ct_background(rng: np.random.Generator, h: int = 512, w: int = 512) -> FloatImage:
    """Stored values (HU + 1024) of a CT-like slice: air, body, lungs, bones, noise."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = h / 2 + rng.uniform(-20, 20), w / 2 + rng.uniform(-20, 20)
    ry, rx = h * rng.uniform(0.30, 0.40), w * rng.uniform(0.38, 0.46)
    body = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    img = np.full((h, w), -1000.0, np.float32)
    img[body] = 40 + 30 * _smooth_noise(rng, h, w, 64)[body]
    for side in (-1, 1):
        ly, lx = cy - ry * 0.1, cx + side * rx * 0.45
        lung = ((yy - ly) / (ry * 0.6)) ** 2 + ((xx - lx) / (rx * 0.3)) ** 2 < 1
        img[lung] = -850 + 60 * _smooth_noise(rng, h, w, 16)[lung]
    for _ in range(int(rng.integers(3, 8))):
        by, bx = cy + rng.uniform(-ry, ry) * 0.8, cx + rng.uniform(-rx, rx) * 0.8
        bone = (yy - by) ** 2 + (xx - bx) ** 2 < rng.uniform(5, 25) ** 2
        img[bone & body] = rng.uniform(300, 1500)
    img += (yy / h - 0.5) * rng.uniform(-60, 60)
    img += rng.normal(0, rng.uniform(8, 25), (h, w)).astype(np.float32)
    out: FloatImage = np.clip(img + 1024.0, 0, 4095)
    return out


def _xr_background(rng: np.random.Generator, h: int, w: int) -> FloatImage:
    """A 12-bit chest-X-ray-like image with collimation borders."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 600 + 350 * _smooth_noise(rng, h, w, 256, 4)
    cy, cx = h / 2, w / 2
    body = ((yy - cy) / (h * 0.45)) ** 2 + ((xx - cx) / (w * 0.38)) ** 2 < 1
    base[body] += 1600
    for side in (-1, 1):
        lung = ((yy - cy * 0.9) / (h * 0.3)) ** 2 + (
            (xx - cx - side * w * 0.17) / (w * 0.13)
        ) ** 2 < 1
        base[lung] -= 900
    for k in range(10):
        band = np.abs(yy - h * (0.2 + 0.06 * k) - 0.15 * np.abs(xx - cx)) < h * 0.008
        base[band & body] += 400
    base[(np.abs(xx - cx) < w * 0.04) & body] += 700
    base += rng.normal(0, 40, (h, w)).astype(np.float32)
    c = int(min(h, w) * rng.uniform(0.0, 0.04))
    if c:
        base[:c, :] = base[-c:, :] = 50
        base[:, :c] = base[:, -c:] = 50
    return np.clip(base, 0, 4095)


def _us_background(
    rng: np.random.Generator, h: int, w: int
) -> tuple[FloatImage, npt.NDArray[np.bool_]]:
    """An RGB ultrasound-like frame (speckle fan, grey bar) and the fan's mask."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(yy - h * 0.12, xx - w / 2)
    angle = np.degrees(np.arctan2(xx - w / 2, yy - h * 0.12))
    fan = (r > h * 0.05) & (r < h * 0.9) & (np.abs(angle) < rng.uniform(30, 40))
    tissue = 70 + 40 * _smooth_noise(rng, h, w, 48) - 0.05 * (r - h * 0.3)
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = rng.uniform(h * 0.3, h * 0.8), rng.uniform(w * 0.4, w * 0.6)
        tissue[(yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(10, 40) ** 2] = 8
    speckle = rng.rayleigh(1.0, (h, w)).astype(np.float32)
    gray = np.where(fan, np.clip(tissue * speckle * 0.8, 0, 255), 0).astype(np.float32)
    img = np.repeat(gray[..., None], 3, axis=2)
    bx, by0, by1 = int(w * 0.93), int(h * 0.25), int(h * 0.65)
    img[by0:by1, bx : bx + 8, :] = np.linspace(255, 0, by1 - by0, dtype=np.float32)[:, None, None]
    return img, fan


def make_background(kind: str, seed: int) -> tuple[npt.NDArray[np.generic], FrameMeta]:
    """A text-free frame of ``kind`` (``ct``, ``us`` or ``xr``) and its metadata."""
    rng = np.random.default_rng(seed)
    if kind.startswith("ct") or kind == "sizes":
        return _ct_background(rng).round().astype(np.uint16), _ct_meta()
    if kind.startswith("us"):
        r = random.Random(seed)
        w, h = r.choice(((640, 480), (800, 600), (1024, 768)))
        return _us_background(rng, h, w)[0].round().astype(np.uint8), _rgb_meta()
    if kind == "xr":
        return _xr_background(rng, 2048, 2048).round().astype(np.uint16), _xr_meta(False)
    raise ValueError(f"unknown image kind {kind!r}")


def _ct_meta() -> FrameMeta:
    return FrameMeta(
        photometric="MONOCHROME2",
        bits_stored=12,
        pixel_representation=0,
        window_center=40.0,
        window_width=400.0,
        rescale_slope=1.0,
        rescale_intercept=-1024.0,
        modality="CT",
    )


def _rgb_meta() -> FrameMeta:
    return FrameMeta(photometric="RGB", bits_stored=8, pixel_representation=0, modality="US")


def _xr_meta(mono1: bool) -> FrameMeta:
    return FrameMeta(
        photometric="MONOCHROME1" if mono1 else "MONOCHROME2",
        bits_stored=12,
        pixel_representation=0,
        window_center=2048.0,
        window_width=4096.0,
        modality="DX",
    )


def _truth(
    text: str, category: str | None, size: int, rotation: int = 0, low: bool = False
) -> GroundTruthBox:
    return GroundTruthBox(0, 0, 0, 0, text, category is not None, category, size, rotation, low)


def _make_ct(r: random.Random, rng: np.random.Generator, p: SyntheticPatient, low: bool) -> _Canvas:
    c = _Canvas(_ct_background(rng))
    size = r.choice((10, 11, 12, 13, 14, 16))
    font = r.choice(_fonts())
    value = r.choice((4095.0, 4095.0, 3071.0, 2400.0))
    phi = _phi_texts(r, p)
    labels = _label_texts(r, "ct")
    corners: list[tuple[str, str, str | None]] = [
        ("tl", *phi[0]),
        ("tl", *phi[1]),
        ("tl", *phi[2]),
        ("tr", *phi[4]),
        ("tr", *phi[3]),
        ("bl", r.choice(labels), None),
        ("bl", r.choice(labels), None),
        ("br", *phi[5]),
        ("br", r.choice(("L", "R", "A", "P")), None),
    ]
    ys = {"tl": 6, "tr": 6, "bl": c.h - 6, "br": c.h - 6}
    for corner, text, category in corners:
        # Low contrast: a display grey of 70..140 in the stored W400/L40 window, on air.
        v = (r.uniform(70, 140) / 255 * 400 - 160 + 1024) if low else value
        alpha = _render(text, font, size)
        hgt, wid = alpha.shape
        if corner in ("tl", "tr"):
            y = ys[corner]
            ys[corner] += hgt + max(2, size // 3)
        else:
            ys[corner] -= hgt + max(2, size // 3)
            y = ys[corner]
        x = 6 if corner in ("tl", "bl") else c.w - 6 - wid
        c.burn(alpha, x, y, v, _truth(text, category, size, low=low), margin=1)
    if r.random() < 0.6:
        text, category = r.choice(
            ((phi[0][0], "name"), ("R", None), ("ROI 1", None), ("23.4 mm", None))
        )
        v = (r.uniform(90, 150) / 255 * 400 - 160 + 1024) if low else 4095.0
        alpha = _render(text, font, size)
        c.burn_somewhere(r, alpha, (100, 100, 412, 412), v, _truth(text, category, size, low=low))
    return c


def _make_sizes(r: random.Random, rng: np.random.Generator, p: SyntheticPatient) -> _Canvas:
    c = _Canvas(_ct_background(rng))
    font = r.choice(_fonts()[:-1])
    items = _phi_texts(r, p)[:5]
    r.shuffle(items)
    for size, (text, category) in zip((8, 10, 12, 16, 24), items, strict=True):
        alpha = _render(text, font, size)
        value = r.choice((4095.0, 3071.0))
        truth = _truth(text, category, size)
        on_anatomy = r.random() < 0.5
        if not (on_anatomy and c.burn_somewhere(r, alpha, (110, 110, 402, 402), value, truth)):
            c.burn_somewhere(r, alpha, (4, 4, c.w - 4, c.h - 4), value, truth)
    return c


def _make_us(r: random.Random, rng: np.random.Generator, p: SyntheticPatient, low: bool) -> _Canvas:
    w, h = r.choice(((640, 480), (800, 600), (800, 600), (1024, 768)))
    bg, fan = _us_background(rng, h, w)
    c = _Canvas(bg)
    c.occupied |= fan
    font = r.choice(_fonts())
    size = r.choice((11, 12, 14, 16)) if w < 1000 else r.choice((14, 16, 18, 20))
    colours: list[tuple[float, float, float]]
    if low:
        g = r.uniform(60, 110)
        colours = [(g, g, g)]
    else:
        colours = [(255, 255, 255), (230, 230, 230), (255, 255, 0), (0, 255, 255), (120, 255, 120)]
    bar_h = int(size * 1.6) + 6
    c.img[0:bar_h, :, :] = r.choice((0, 20, 35))
    phi = _phi_texts(r, p)
    x = 6
    for text, category in [phi[4], phi[0], phi[1], phi[3], phi[2]]:
        alpha = _render(text, font, size)
        if x + alpha.shape[1] > w - 6:
            break
        c.burn(
            alpha,
            x,
            (bar_h - alpha.shape[0]) // 2,
            r.choice(colours),
            _truth(text, category, size, low=low),
            1,
        )
        x += alpha.shape[1] + r.randint(15, 40)
    y = bar_h + 12
    small = max(9, size - 3)
    for text in r.sample(_label_texts(r, "us"), 5):
        alpha = _render(text, font, small)
        if c.burn(alpha, 6, y, r.choice(colours), _truth(text, None, small, low=low), 1):
            y += alpha.shape[0] + 6
    if r.random() < 0.7:
        c.occupied[fan] = False
        fan_text: list[tuple[str, str | None]] = [
            ("LIVER", None),
            ("RT KIDNEY", None),
            ("SAG", None),
            (phi[0][0], "name"),
        ]
        label, label_category = r.choice(fan_text)
        alpha = _render(label, font, size)
        region = (int(w * 0.35), int(h * 0.35), int(w * 0.65), int(h * 0.85))
        c.burn_somewhere(
            r, alpha, region, r.choice(colours), _truth(label, label_category, size, low=low)
        )
    return c


def _make_xr(r: random.Random, rng: np.random.Generator, p: SyntheticPatient) -> _Canvas:
    w, h = r.choice(((2048, 2048), (2000, 2500)))
    c = _Canvas(_xr_background(rng, h, w))
    font = r.choice(_fonts()[:-1])
    size = r.choice((14, 16, 20, 24, 28))
    value = r.choice((4095.0, 4095.0, 3500.0))
    phi = _phi_texts(r, p)
    y = 30
    for text, category in [phi[0], phi[1], phi[2], phi[3], phi[4]]:
        alpha = _render(text, font, size)
        if c.burn(alpha, 40, y, value, _truth(text, category, size), 1):
            y += alpha.shape[0] + size // 2
    y = h - 40
    for text in r.sample(_label_texts(r, "xr"), 3):
        alpha = _render(text, font, size)
        y -= alpha.shape[0] + size // 2
        c.burn(alpha, w - 40 - alpha.shape[1], y, value, _truth(text, None, size), 1)
    side_text: list[tuple[str, str | None]] = [
        (f"{phi[4][0]} PORTABLE", "institution"),
        ("PORTABLE AP SUPINE", None),
    ]
    label, label_category = r.choice(side_text)
    rot, rsize = r.choice((90, 270)), r.choice((24, 32))
    alpha = _render(label, font, rsize, rot)
    region = (int(w * 0.75), int(h * 0.1), w - 20, int(h * 0.95))
    c.burn_somewhere(r, alpha, region, value, _truth(label, label_category, rsize, rot))
    marker, msize = r.choice(("L", "R")), r.choice((48, 64, 80))
    alpha = _render(marker, r.choice(_fonts()[:-1]), msize)
    region = (int(w * 0.05), int(h * 0.3), int(w * 0.3), int(h * 0.7))
    c.burn_somewhere(r, alpha, region, 4095.0, _truth(marker, None, msize))
    return c


def make_burned_image(
    kind: str, seed: int
) -> tuple[npt.NDArray[np.generic], FrameMeta, list[GroundTruthBox]]:
    """A synthetic frame of ``kind`` (:data:`IMAGE_KINDS`) with its patient's text burned in.

    The patient is ``patient_for_seed(seed)``.

    Returns the pixels as pydicom would decode them (uint16 12-bit grey for CT/X-ray,
    RGB uint8 for ultrasound), their metadata, and the ground-truth boxes. Half of the
    X-rays are stored MONOCHROME1 (inverted).
    """
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    patient = patient_for_seed(seed)
    if kind in ("ct", "ct_low"):
        c = _make_ct(r, rng, patient, low=kind == "ct_low")
    elif kind == "sizes":
        c = _make_sizes(r, rng, patient)
    elif kind in ("us", "us_low"):
        c = _make_us(r, rng, patient, low=kind == "us_low")
        return np.clip(c.img.round(), 0, 255).astype(np.uint8), _rgb_meta(), c.truths
    elif kind == "xr":
        c = _make_xr(r, rng, patient)
        pixels = np.clip(c.img.round(), 0, 4095).astype(np.uint16)
        mono1 = r.random() < 0.5
        if mono1:
            pixels = (4095 - pixels).astype(np.uint16)
        return pixels, _xr_meta(mono1), c.truths
    else:
        raise ValueError(f"unknown image kind {kind!r}")
    return np.clip(c.img.round(), 0, 4095).astype(np.uint16), _ct_meta(), c.truths


def burn_text(ds: pydicom.Dataset, texts: Sequence[str], seed: int) -> list[GroundTruthBox]:
    """Burn ``texts`` as lines in the corners of every frame of ``ds``, in place.

    Compressed pixel data is decompressed first (the dataset's transfer syntax becomes
    Explicit VR Little Endian). The ink takes the brightest displayed value (the
    darkest stored one for MONOCHROME1). Returned boxes carry no PHI category; callers
    that know which text is PHI set it themselves. Lines that do not fit are skipped.
    """
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.decompress()
    r = random.Random(seed)
    arr = ds.pixel_array
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    colour = int(ds.SamplesPerPixel) == 3
    rows, cols = int(ds.Rows), int(ds.Columns)
    bits = int(ds.BitsStored)
    signed = int(ds.PixelRepresentation) == 1
    hi = (2 ** (bits - 1) - 1) if signed else (2**bits - 1)
    lo = -(2 ** (bits - 1)) if signed else 0
    ink: float | tuple[float, float, float]
    if colour:
        ink = (255.0, 255.0, 255.0)
    else:
        ink = float(lo if ds.PhotometricInterpretation == "MONOCHROME1" else hi)
    size = int(min(24, max(8, rows // 32)))
    font = r.choice(_fonts()[:-1])
    stack = arr.reshape((frames, rows, cols, 3) if colour else (frames, rows, cols))
    first = _Canvas(stack[0].astype(np.float32))
    spots = {"tl": 4, "tr": 4, "bl": rows - 4, "br": rows - 4}
    placed: list[tuple[Alpha, int, int]] = []
    for i, text in enumerate(texts):
        alpha = _render(text, font, size)
        hgt, wid = alpha.shape
        corner = ("tl", "tr", "bl", "br")[i % 4]
        if corner.startswith("t"):
            y = spots[corner]
            spots[corner] += hgt + 3
        else:
            spots[corner] -= hgt + 3
            y = spots[corner]
        x = 4 if corner.endswith("l") else cols - 4 - wid
        if first.burn(alpha, x, y, ink, _truth(text, None, size), margin=1):
            placed.append((alpha, x, y))
    out = stack.astype(np.float32)
    for alpha, x, y in placed:
        h, w = alpha.shape
        region = out[:, y : y + h, x : x + w]
        a = alpha[None, ..., None] if colour else alpha[None]
        out[:, y : y + h, x : x + w] = region * (1 - a) + np.asarray(ink, np.float32) * a
    result = np.clip(out.round(), lo, hi).astype(arr.dtype)
    if colour and int(getattr(ds, "PlanarConfiguration", 0) or 0) == 1:
        result = result.transpose(0, 3, 1, 2)  # colour-by-plane on disk
    ds.PixelData = np.ascontiguousarray(result).tobytes()
    return first.truths
