"""dicomscrub: standard-driven DICOM de-identification.

The public API is re-exported here and loaded on first use, so ``import dicomscrub``
(and ``dicomscrub.client``, which needs only httpx) stays light::

    import dicomscrub

    reports = dicomscrub.deidentify(["/data/raw"], "/data/clean", key_file="site.key")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DicomscrubError",
    "FileError",
    "FileReport",
    "Option",
    "PixelMode",
    "Policy",
    "StorageError",
    "__version__",
    "build_policy",
    "deidentify",
    "scrub_dataset",
]

_WHERE = {
    "ConfigError": "dicomscrub.errors",
    "DicomscrubError": "dicomscrub.errors",
    "FileError": "dicomscrub.errors",
    "StorageError": "dicomscrub.errors",
    "FileReport": "dicomscrub.report.models",
    "Option": "dicomscrub.profile.options",
    "PixelMode": "dicomscrub.profile.policy",
    "Policy": "dicomscrub.profile.policy",
    "build_policy": "dicomscrub.api",
    "deidentify": "dicomscrub.api",
    "scrub_dataset": "dicomscrub.pipeline",
}

if TYPE_CHECKING:
    from dicomscrub.api import build_policy, deidentify
    from dicomscrub.errors import ConfigError, DicomscrubError, FileError, StorageError
    from dicomscrub.pipeline import scrub_dataset
    from dicomscrub.profile.options import Option
    from dicomscrub.profile.policy import PixelMode, Policy
    from dicomscrub.report.models import FileReport


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dicomscrub' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
