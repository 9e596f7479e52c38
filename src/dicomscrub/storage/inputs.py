"""Expand the SRC arguments of a job (files, folders, prefixes, globs, lists) into inputs."""

from __future__ import annotations

import glob
import json
import os
import posixpath
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dicomscrub.errors import ConfigError
from dicomscrub.storage import fs
from dicomscrub.storage.integrations import Integration
from dicomscrub.storage.io import local_path, read_bytes, remote_location
from dicomscrub.storage.urls import Location

__all__ = ["LIST_SUFFIXES", "InputRef", "is_dicom_candidate", "iter_inputs", "parse_list"]

#: A SRC with one of these suffixes is a list of inputs, one per line (or a JSON list).
LIST_SUFFIXES = (".txt", ".lst", ".list", ".json")
#: Bytes :func:`is_dicom_candidate` needs to decide.
HEAD_SIZE = 132


@dataclass(frozen=True)
class InputRef:
    """One input: ``url`` as the user named it, ``relpath`` relative to its source root."""

    url: str
    relpath: str


def is_dicom_candidate(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first 132 bytes) may be DICOM.

    True for a Part 10 file (``DICM`` at offset 128, PS3.10 7.1) and for a bare data set
    without preamble whose first element is in group 0002 or 0008, as old modalities write.
    """
    if head[128:132] == b"DICM":
        return True
    if len(head) < 8:
        return False
    group, element = struct.unpack("<HH", head[:4])
    if group not in (0x0002, 0x0008) or element > 0x0020:
        return False
    vr = head[4:6]
    if vr.isalpha() and vr.isupper():
        return True
    # Implicit VR: a 4-byte length that fits in the file's first bytes' plausible range.
    length: int = struct.unpack("<I", head[4:8])[0]
    return length < 0x10000


def _walk(root: Path, shown: str) -> Iterator[InputRef]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            yield InputRef(url=f"{shown.rstrip('/')}/{rel}", relpath=rel)


def parse_list(text: str, shown: str, is_json: bool) -> list[str]:
    """The SRCs a list file holds: a JSON list of strings, or one per line (``#`` comments)."""
    if is_json:
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{shown}: not a JSON list of URLs (line {exc.lineno})") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{shown}: expected a JSON list of strings")
        return items
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _local_inputs(src: str, path: Path, integration: Integration | None) -> Iterator[InputRef]:
    if path.is_dir():
        yield from _walk(path, src)
    elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        text = path.read_text(encoding="utf-8")
        items = parse_list(text, str(path), path.suffix.lower() == ".json")
        yield from iter_inputs(items, integration=integration)
    elif path.is_file():
        yield InputRef(url=src, relpath=path.name)
    elif glob.has_magic(src):
        # The user's glob string, as typed: Path.glob takes no absolute patterns.
        matches = sorted(glob.glob(src, recursive=True))  # noqa: PTH207
        if not matches:
            raise ConfigError(f"no file matches {src!r}")
        root = Path(src.split("*")[0].split("?")[0].split("[")[0])
        root = root if src.endswith("/") or root.is_dir() else root.parent
        for match in matches:
            mp = Path(match)
            if mp.is_file():
                try:
                    rel = mp.relative_to(root).as_posix()
                except ValueError:
                    rel = mp.name
                yield InputRef(url=match, relpath=rel)
    else:
        raise ConfigError(f"input not found: {src!r}")


def _is_hidden(relpath: str) -> bool:
    return any(part.startswith(".") for part in relpath.split("/"))


def _prefix_inputs(src: str, loc: Location, integration: Integration | None) -> Iterator[InputRef]:
    base = src if src.endswith("/") else src + "/"
    for rel in fs.find(loc, integration):
        if not _is_hidden(rel):
            yield InputRef(url=base + rel, relpath=rel)


def _remote_inputs(src: str, integration: Integration | None) -> Iterator[InputRef]:
    loc, integ = remote_location(src, integration)
    name = posixpath.basename(loc.key.rstrip("/"))
    if loc.scheme == "http":
        yield InputRef(url=src, relpath=posixpath.basename(src.split("?", 1)[0]) or "index")
    elif glob.has_magic(loc.key):
        static = loc.key.split("*")[0].split("?")[0].split("[")[0]
        root = Location(loc.scheme, loc.bucket, static.rpartition("/")[0], loc.account)
        rels = fs.glob(loc, root, integ)
        if not rels:
            raise ConfigError(f"no object matches {src!r}")
        shown = src[: len(src) - len(loc.key)] + root.key
        for rel in rels:
            yield InputRef(url=f"{shown.rstrip('/')}/{rel}", relpath=rel)
    elif loc.is_prefix:
        yield from _prefix_inputs(src, loc, integ)
    else:
        found = fs.info(loc, integ)
        if found is None:
            raise ConfigError(f"input not found: {src!r}")
        if found.get("type") == "directory":
            yield from _prefix_inputs(src, loc, integ)
        elif posixpath.splitext(name)[1].lower() in LIST_SUFFIXES:
            text = read_bytes(src, integration=integration).decode("utf-8")
            items = parse_list(text, src, name.lower().endswith(".json"))
            yield from iter_inputs(items, integration=integration)
        else:
            yield InputRef(url=src, relpath=name)


def iter_inputs(
    sources: Sequence[str], *, integration: Integration | None = None
) -> Iterator[InputRef]:
    """Yield every input named by ``sources``, in a stable order.

    A SRC is a file, a folder (walked recursively; hidden files skipped), a glob, an
    object URL, a prefix (``s3://bucket/raw/``, listed recursively page by page), or a
    file (local or remote) with a suffix in :data:`LIST_SUFFIXES` listing one SRC per
    line or as a JSON list. ``integration`` applies to every remote SRC. A SRC that matches
    nothing is a :class:`ConfigError`.
    """
    for src in sources:
        path = local_path(src)
        if path is not None:
            yield from _local_inputs(src, path, integration)
        else:
            yield from _remote_inputs(src, integration)
