"""Smooth, deterministic CT-like and MR-like pixel arrays for synthetic files."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["CT_RESCALE_INTERCEPT", "ct_pixels", "mr_pixels"]

#: Stored CT values are Hounsfield units plus 1024 (RescaleIntercept -1024, slope 1).
CT_RESCALE_INTERCEPT = -1024


def _grid(rows: int, columns: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float64)
    return (y - rows / 2) / (rows / 2), (x - columns / 2) / (columns / 2)


def _anatomy(rows: int, columns: int, slice_index: int, seed: int) -> dict[str, np.ndarray]:
    """Masks of a body outline, a bone ring, two organs and a lesion, moving with the slice."""
    rng = np.random.default_rng([seed, slice_index])
    y, x = _grid(rows, columns)
    phase = slice_index / 7.0
    body = (x / 0.85) ** 2 + (y / 0.65) ** 2 <= 1.0
    ring = np.abs(np.hypot(x / 0.7, y / 0.5) - 0.9) < 0.05
    left = ((x + 0.35) / (0.22 + 0.03 * np.sin(phase))) ** 2 + (y / 0.3) ** 2 <= 1.0
    right = ((x - 0.35) / (0.22 + 0.03 * np.cos(phase))) ** 2 + (y / 0.3) ** 2 <= 1.0
    cx, cy = rng.uniform(-0.2, 0.2, size=2)
    lesion = np.hypot(x - cx, y - cy) < 0.08
    return {"body": body, "ring": ring, "left": left, "right": right, "lesion": lesion}


def _smooth_noise(rows: int, columns: int, slice_index: int, seed: int) -> np.ndarray:
    # Low-frequency texture: a few sinusoids, so the image compresses like a real one.
    rng = np.random.default_rng([seed, slice_index, 1])
    y, x = _grid(rows, columns)
    field = np.zeros((rows, columns))
    for _ in range(4):
        fx, fy, ph = rng.uniform(1.0, 6.0), rng.uniform(1.0, 6.0), rng.uniform(0, 2 * np.pi)
        field += np.sin(fx * np.pi * x + fy * np.pi * y + ph)
    return field / 4.0


def ct_pixels(rows: int, columns: int, *, slice_index: int = 0, seed: int = 0) -> np.ndarray:
    """A CT-like slice as stored ``int16`` values (HU + 1024)."""
    parts = _anatomy(rows, columns, slice_index, seed)
    hu = np.full((rows, columns), -1000.0)
    hu[parts["body"]] = 40.0
    hu[parts["left"] | parts["right"]] = -820.0  # lungs
    hu[parts["ring"] & parts["body"]] = 900.0  # ribs
    hu[parts["lesion"]] = 65.0
    hu += 12.0 * _smooth_noise(rows, columns, slice_index, seed) * parts["body"]
    return np.round(hu - CT_RESCALE_INTERCEPT).astype(np.int16)


def mr_pixels(rows: int, columns: int, *, slice_index: int = 0, seed: int = 0) -> np.ndarray:
    """An MR-like slice as ``uint16`` values within 12 bits."""
    parts = _anatomy(rows, columns, slice_index, seed)
    signal = np.zeros((rows, columns))
    signal[parts["body"]] = 1400.0
    signal[parts["left"] | parts["right"]] = 300.0
    signal[parts["ring"] & parts["body"]] = 2600.0  # fat around the ribs
    signal[parts["lesion"]] = 3300.0
    signal += 150.0 * _smooth_noise(rows, columns, slice_index, seed) * parts["body"]
    return np.clip(np.round(signal), 0, 4095).astype(np.uint16)
