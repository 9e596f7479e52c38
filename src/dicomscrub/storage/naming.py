"""Where each output goes and what it is called."""

from __future__ import annotations

import posixpath
import string

from dicomscrub.errors import ConfigError
from dicomscrub.storage.inputs import InputRef

__all__ = ["DEFAULT_NAME_TEMPLATE", "check_name_template", "output_url"]

#: The reference API's naming: ``deid_{timestamp}_{original_name}``.
DEFAULT_NAME_TEMPLATE = "deid_{timestamp}_{name}"
_FIELDS = {"timestamp", "name", "stem", "suffix"}


def check_name_template(template: str) -> None:
    """Raise :class:`ConfigError` unless ``template`` uses only known fields."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"bad --name-template: {exc}") from None
    unknown = fields - _FIELDS
    if unknown:
        raise ConfigError(
            f"--name-template uses unknown field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}"
        )
    if "name" not in fields and "stem" not in fields:
        raise ConfigError("--name-template must contain {name} or {stem}")
    if "/" in template:
        raise ConfigError("--name-template must not contain '/'")


def _split(url: str) -> tuple[str, str]:
    if url.startswith(("http://", "https://")):
        # A pre-signed URL's query belongs to the input, not to a name beside it.
        url = url.split("?", 1)[0].split("#", 1)[0]
    head, _, tail = url.rstrip("/").rpartition("/")
    return head, tail


def output_url(ref: InputRef, *, out: str | None, template: str, timestamp: int) -> str:
    """The URL the de-identified copy of ``ref`` is written to.

    With ``out`` (a folder or URL prefix), the input's folder relative to its source root
    is mirrored under ``out``; without it, the output goes beside the source, as the
    reference API does, in the same URL form (``s3://b/raw/x.dcm`` ->
    ``s3://b/raw/deid_T_x.dcm``).
    """
    head, name = _split(ref.url)
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    new_name = template.format(
        timestamp=timestamp, name=name, stem=stem, suffix=("." + suffix) if suffix else ""
    )
    if out is None:
        return f"{head}/{new_name}" if head or ref.url.startswith("/") else new_name
    rel_dir = posixpath.dirname(ref.relpath)
    base = out.rstrip("/")
    return "/".join(part for part in (base, rel_dir, new_name) if part)
