"""Apply the de-identification rules to every element of a Dataset, at every depth.

Order of decisions for one element (first match wins):

1. a user override from the profile file (keep, remove, empty, replace);
2. private elements: kept only with Retain Safe Private and only when PS3.15 Table
   E.3.10-1 lists them (by private creator and element); private creators are kept
   only while an element of their block is;
3. PatientName and PatientID: the keyed pseudonym or the user's lookup table;
4. the row of PS3.15 Table E.1-1 for the tag, under the selected options;
5. attributes the table does not list (the documented default): UI values are
   remapped unless defined by the standard; PN values are removed; DA, DT and TM
   values are removed unless a Retain Longitudinal option keeps (Full Dates) or shifts
   (Modified Dates) them; sequences are walked; every other VR is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from pydicom.datadict import dictionary_has_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

from dicomscrub.fastvalues import (
    ElementView,
    effective_vr,
    elements,
    encoding_of,
    keyword,
    set_string_value,
    simple_codec,
)
from dicomscrub.header.dates import date_offset, shift_da, shift_dt
from dicomscrub.header.dummies import dummy_value
from dicomscrub.header.pseudonyms import pseudonym_for
from dicomscrub.header.uids import is_valid_uid, is_well_known_uid, remap_uid
from dicomscrub.phi import PhiValues
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import Override, Policy
from dicomscrub.profile.rules import Action, Rule, RuleTable, load_rule_table

__all__ = ["AppliedAction", "HeaderResult", "scrub_header"]

_TEXT_VRS: Final = frozenset({"LO", "SH", "LT", "ST", "UT", "UC", "AE", "CS", "UR"})
_STR_VRS: Final = _TEXT_VRS | {"PN", "DA", "DT", "TM", "AS", "DS", "IS", "UI"}
_DATE_VRS: Final = frozenset({"DA", "DT", "TM"})
_FREE_TEXT_VRS: Final = frozenset({"LO", "LT", "ST", "UT", "UC"})
# Coded concepts name things, not people: never cleaned or dummied inside content.
_CODE_KEYWORDS: Final = frozenset(
    {
        "CodeValue",
        "CodingSchemeDesignator",
        "CodingSchemeVersion",
        "CodeMeaning",
        "LongCodeValue",
        "URNCodeValue",
        "MappingResource",
        "ContextIdentifier",
        "ContextUID",
        "ValueType",
        "RelationshipType",
        "ContinuityOfContent",
        "TemplateIdentifier",
        "MeasurementUnitsCodeSequence",
    }
)
#: Rows of Table E.1-1 for overlay data (60xx,3000) and curve data (50xx,xxxx).
_GRAPHIC_DATA: Final = frozenset({"60XX3000", "50XXXXXX"})

#: VRs whose values the engine must look at (remap, remove, shift or clean).
_DECODE_VRS: Final = _FREE_TEXT_VRS | _DATE_VRS | {"SQ", "UI", "PN", "SH"}


#: Text that stands in for content that was removed where a value must remain.
_REMOVED_TEXT: Final = "REMOVED"
_PATIENT_NAME: Final = 0x00100010
_PATIENT_ID: Final = 0x00100020
_PATIENT_TAGS: Final = frozenset({_PATIENT_NAME, _PATIENT_ID})


@dataclass(frozen=True, slots=True)
class AppliedAction:
    """What happened to one element: its path, tag, keyword and action. Never its value.

    ``prefix`` is the path of the sequence item holding the element ("" at the top);
    the full path and tag text are formatted only when asked for (dry runs), since a
    header has hundreds of elements and most runs only count them.
    """

    prefix: str
    tag_int: int
    keyword: str
    action: str
    changed: bool

    @property
    def tag(self) -> str:
        return _tag_text(self.tag_int)

    @property
    def path(self) -> str:
        return self.prefix + _tag_text(self.tag_int)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "tag": self.tag,
            "keyword": self.keyword,
            "action": self.action,
            "changed": self.changed,
        }


#: One action as recorded during the walk: (item prefix, tag, keyword or None to look
#: up later, action, changed). Tuples, since most runs only count the changes.
_Record = tuple[str, int, str | None, str, bool]


@dataclass
class HeaderResult:
    """The outcome of scrubbing one dataset's header."""

    records: list[_Record] = field(default_factory=list, repr=False)
    changed: int = 0
    """How many elements were changed or removed."""

    @property
    def actions(self) -> list[AppliedAction]:
        """Every element's action, in walk order (built on demand: dry runs, inspect)."""
        return [
            AppliedAction(prefix, tag, keyword(tag) if kw is None else kw, action, changed)
            for prefix, tag, kw, action, changed in self.records
        ]


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _override_matches(pattern: str, tag: int) -> bool:
    text = f"{tag:08X}"
    return all(p in ("X", t) for p, t in zip(pattern.upper(), text, strict=True))


def _values(elem: ElementView) -> list[Any]:
    value = elem.value
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def _set_values(elem: ElementView, values: list[Any]) -> None:
    if not values:
        return
    elem.value = values[0] if len(values) == 1 else values


_RuleHit = tuple[Rule | None, Action | None]


@lru_cache(maxsize=32)
def _rule_memo(table: RuleTable, options: frozenset[Option]) -> dict[int, _RuleHit]:
    """A per-(table, options) memo of tag -> (row, action), shared by every file of a run,
    so that each element costs one dict lookup (filled by :meth:`_Scrubber.rule`)."""
    del table, options  # the cache key
    return {}


def _element_keyword(tag: int) -> str:
    """The keyword pydicom's ``DataElement.keyword`` gives (none for repeating groups)."""
    return keyword(tag) if dictionary_has_tag(tag) else ""


class _Scrubber:
    def __init__(
        self, policy: Policy, phi: PhiValues, table: RuleTable, original_pid: str, root: Dataset
    ) -> None:
        self.root = root
        self.policy = policy
        self.phi = phi
        self.table = table
        self.options = policy.options
        self.key = policy.key
        self.result = HeaderResult()
        self.days = date_offset(policy.key, original_pid)
        self.original_pid = original_pid
        self.modified_dates = Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in self.options
        self.full_dates = Option.RETAIN_LONGITUDINAL_FULL_DATES in self.options
        self.retain_uids = Option.RETAIN_UIDS in self.options
        self.context: str | None = None
        self.codec = simple_codec(root)
        self._rules = _rule_memo(table, self.options)

    # -- recording -------------------------------------------------------------------
    def record(self, path: str, tag: int, keyword: str, action: str, changed: bool) -> None:
        """Record an action; ``path`` is the item prefix (see :class:`AppliedAction`)."""
        self.result.records.append((path, int(tag), keyword, action, changed))
        if changed:
            self.result.changed += 1

    def rule(self, tag: int) -> _RuleHit:
        """The Table E.1-1 row for ``tag`` and its action under the options (memoised)."""
        hit = self._rules.get(tag)
        if hit is None:
            row = self.table.rule_for(tag)
            hit = (row, None if row is None else row.action(self.options))
            self._rules[tag] = hit
        return hit

    # -- value transformations -------------------------------------------------------
    def uid(self, value: str) -> str:
        value = value.strip("\x00 ")
        if not value or is_well_known_uid(value):
            return value
        if self.retain_uids and is_valid_uid(value):
            return value
        return remap_uid(value, self.key)

    def clean(self, elem: ElementView) -> str:
        """Action C on a non-sequence element; returns the action name recorded."""
        vr = elem.VR
        if vr in ("DA", "DT"):
            if not self.modified_dates and not self.full_dates:
                # C on dates comes only from the date options; without them, dummy.
                elem.value = dummy_value(vr)
                return "D"
            if self.full_dates:
                return "K"
            shift = shift_da if vr == "DA" else shift_dt
            out = []
            for v in _values(elem):
                shifted = shift(str(v), self.days) if v not in (None, "") else v
                if shifted is None:
                    elem.value = ""
                    return "Z"
                out.append(shifted)
            _set_values(elem, out)
            return "shift"
        if vr == "TM":
            return "K"  # whole-day shifts leave times of day as they were
        if vr in _TEXT_VRS or vr == "PN":
            out = []
            for v in _values(elem):
                if v is None:
                    out.append(v)
                    continue
                text = str(v)
                cleaned, n = self.phi.clean_text(text)
                out.append(cleaned if cleaned or not n else _REMOVED_TEXT)
            if vr == "PN":
                elem.value = ""
                return "Z"
            _set_values(elem, out)
            return "C"
        return "K"  # numbers, codes and binary values carry no free text to clean

    def zero(self, elem: ElementView) -> None:
        if elem.VR == "SQ":
            elem.value = Sequence()
        elif elem.VR in _STR_VRS:
            elem.value = ""
        else:
            elem.value = None

    # -- the walk --------------------------------------------------------------------
    def walk(self, ds: Dataset, prefix: str) -> None:
        items = elements(ds)
        at_root = ds is self.root
        flags = encoding_of(ds)
        records = self.result.records
        creators = self.private_creators(ds)
        kept_blocks: set[tuple[int, int]] = set()
        for tag, raw in list(items.items()):
            if tag not in items:
                continue  # removed with its overlay or curve group
            # ``tag`` (pydicom's key object) for the data set, a plain int for the
            # caches and records (see fastvalues.keyword).
            int_tag = int(tag)
            group, element = int_tag >> 16, int_tag & 0xFFFF
            if element == 0 and group != 0x0002:
                del ds[tag]  # group lengths are stale after any change (and retired)
                continue
            path = prefix  # records take the item prefix; see AppliedAction
            if self.is_plain_keep(int_tag, effective_vr(raw.VR, int_tag), at_root):
                # Kept as read: never decoded, so the original bytes are written back.
                records.append((path, int_tag, None, "K", False))
                continue
            elem = ElementView(ds, tag, self.codec, raw, flags)
            keyword = elem.keyword
            override = self.find_override(int_tag)
            if override is not None:
                self.apply_override(ds, elem, override, path)
                if group & 1 and element >= 0x1000:
                    kept_blocks.add((group, element >> 8))
                continue
            if group & 1:
                if 0x0010 <= element <= 0x00FF:
                    continue  # creators are decided once their blocks are known
                creator = creators.get((group, element >> 8))
                if self.keep_private(creator, group, element):
                    kept_blocks.add((group, element >> 8))
                    if elem.VR == "SQ":
                        self.walk_items(elem, path)
                    self.record(path, tag, keyword, "K", False)
                else:
                    del ds[tag]
                    self.record(path, tag, keyword, "X", True)
                continue
            if at_root and int_tag in _PATIENT_TAGS:
                self.pseudonymise(elem, path)
                continue
            self.apply_rule(ds, elem, path)
        for (group, block), _creator in creators.items():
            ctag = BaseTag((group << 16) | block)
            if (group, block) in kept_blocks:
                self.record(prefix, ctag, "", "K", False)
            elif ctag in items:
                del ds[ctag]
                self.record(prefix, ctag, "", "X", True)

    @staticmethod
    def private_creators(ds: Dataset) -> dict[tuple[int, int], str]:
        """(group, block) -> private creator of every private block in ``ds``."""
        creators: dict[tuple[int, int], str] = {}
        for tag in elements(ds):
            group, element = tag >> 16, tag & 0xFFFF
            if group & 1 and 0x0010 <= element <= 0x00FF:
                value = ds[tag].value
                creators[(group, element)] = str(value).strip() if value is not None else ""
        return creators

    def is_plain_keep(self, tag: int, vr: str | None, at_root: bool) -> bool:
        """Whether the element is kept unchanged whatever its value (decided without
        decoding the value, which is most of the cost of a header)."""
        if vr is None or vr in _DECODE_VRS or tag >> 16 & 1 or self.policy.overrides:
            return False
        if at_root and tag in _PATIENT_TAGS:
            return False
        row, action = self.rule(tag)
        return row is None or action is Action.KEEP

    def walk_items(self, elem: ElementView, path: str, context: str | None = None) -> None:
        """Walk the items of a sequence; ``context`` is ``"D"`` or ``"C"`` when the sequence
        itself is to be dummied or cleaned, which then governs its unlisted content."""
        outer = self.context
        if context is not None:
            self.context = context
        try:
            for index, item in enumerate(elem.value or ()):
                self.walk(item, f"{path}{_tag_text(int(elem.tag))}[{index}].")
        finally:
            self.context = outer

    def find_override(self, tag: int) -> Override | None:
        for override in self.policy.overrides:
            if _override_matches(override.tag, tag):
                return override
        return None

    def apply_override(self, ds: Dataset, elem: ElementView, ov: Override, path: str) -> None:
        tag = int(elem.tag)
        if ov.action == "keep":
            self.record(path, tag, elem.keyword or "", "override:keep", False)
        elif ov.action == "remove":
            del ds[elem.tag]
            self.record(path, tag, elem.keyword or "", "override:remove", True)
        elif ov.action == "empty":
            self.zero(elem)
            self.record(path, tag, elem.keyword or "", "override:empty", True)
        else:
            elem.value = ov.value
            self.record(path, tag, elem.keyword or "", "override:replace", True)

    def keep_private(self, creator: str | None, group: int, element: int) -> bool:
        if Option.RETAIN_SAFE_PRIVATE not in self.options or creator is None:
            return False
        from dicomscrub.profile.safe_private import is_safe_private

        return is_safe_private(creator, group, element)

    def pseudonymise(self, elem: ElementView, path: str) -> None:
        entry, source = pseudonym_for(self.original_pid, self.policy)
        tag = int(elem.tag)
        elem.value = entry.new_name if tag == _PATIENT_NAME else entry.new_id
        self.record(path, tag, _element_keyword(tag), f"pseudonym:{source}", True)

    def apply_rule(self, ds: Dataset, elem: ElementView, path: str) -> None:
        tag = int(elem.tag)
        keyword = elem.keyword or ""
        rule, action = self.rule(tag)
        vr = elem.VR
        if action is None:
            action = self.default_action(elem)
        if (
            rule is not None
            and rule.tag in _GRAPHIC_DATA
            and action
            in (
                Action.REMOVE,
                Action.CLEAN,
            )
        ):
            # Overlay bitmaps and curve data cannot be checked for text, so Clean
            # Graphics removes them like the Basic Profile does (with their groups).
            self.remove_group(ds, elem.tag.group, path)
            return
        if action is Action.REMOVE:
            del ds[elem.tag]
            self.record(path, tag, keyword, "X", True)
        elif action is Action.ZERO:
            self.zero(elem)
            self.record(path, tag, keyword, "Z", True)
        elif action is Action.KEEP:
            if vr == "SQ":
                self.walk_items(elem, path)
            elif vr == "UI":
                before = _values(elem)
                after = [
                    self.uid(str(v)) if self.retain_uids or rule is None else v for v in before
                ]
                if after != before:
                    _set_values(elem, after)
                    self.record(path, tag, keyword, "U", True)
                    return
            if rule is None and vr in _FREE_TEXT_VRS and keyword not in _CODE_KEYWORDS:
                # Unlisted free text is kept minus this file's own PHI values; inside
                # content to be dummied (D) it is replaced, inside content to be
                # cleaned (C) PHI-shaped runs go too.
                if self.context == "D":
                    elem.value = _REMOVED_TEXT
                    self.record(path, tag, keyword, "D", True)
                else:
                    self.scrub_free_text(elem, path, patterns=self.context == "C")
                return
            self.record(path, tag, keyword, "K", False)
        elif action is Action.UID:
            if vr == "SQ":
                self.walk_items(elem, path)
                self.record(path, tag, keyword, "U", False)
            elif vr == "UI":
                before = _values(elem)
                after = [self.uid(str(v)) if v else v for v in before]
                _set_values(elem, after)
                self.record(path, tag, keyword, "U", after != before)
            else:
                elem.value = dummy_value(vr)
                self.record(path, tag, keyword, "D", True)
        elif action is Action.DUMMY:
            if vr == "SQ":
                self.walk_items(elem, path, "D")
                self.record(path, tag, keyword, "D", False)
            elif vr == "UI":
                after = [self.uid(str(v)) if v else v for v in _values(elem)]
                _set_values(elem, after)
                self.record(path, tag, keyword, "U", True)
            else:
                elem.value = dummy_value(vr)
                self.record(path, tag, keyword, "D", True)
        else:  # CLEAN
            if vr == "SQ":
                self.walk_items(elem, path, "C")
                self.record(path, tag, keyword, "C", False)
                return
            before = elem.value
            done = self.clean(elem)
            self.record(path, tag, keyword, done, elem.value != before)

    def scrub_free_text(self, elem: ElementView, path: str, *, patterns: bool = False) -> None:
        values = _values(elem)
        out = []
        removed = 0
        for v in values:
            if v is None or v == "":
                out.append(v)
                continue
            cleaned, n = self.phi.clean_text(str(v), patterns=patterns)
            removed += n
            out.append(cleaned if cleaned or not n else _REMOVED_TEXT)
        if removed:
            _set_values(elem, out)
        self.record(path, int(elem.tag), elem.keyword or "", "C" if removed else "K", bool(removed))

    def default_action(self, elem: ElementView) -> Action:
        vr = elem.VR
        if vr == "SQ":
            return Action.KEEP
        if vr == "UI":
            return Action.KEEP  # remapped in KEEP unless standard-defined (see uid())
        if vr == "PN":
            return Action.DUMMY if self.context else Action.REMOVE
        if vr in _DATE_VRS:
            if self.full_dates:
                return Action.KEEP
            if self.modified_dates:
                return Action.CLEAN
            # Inside content items a date is often Type 1: replace rather than remove.
            return Action.DUMMY if self.context else Action.REMOVE
        return Action.KEEP

    def remove_group(self, ds: Dataset, group: int, path: str) -> None:
        """Remove a whole overlay (60xx) or curve (50xx) group: its data is gone, so its
        description would only mislead a reader."""
        for tag in [t for t in elements(ds) if t >> 16 == group]:
            del ds[tag]
            self.record(path, int(tag), _element_keyword(tag), "X", True)


def _original_text(ds: Dataset, tag: int, name: str, codec: str | None) -> str:
    """``str(ds.get(name) or "").strip()``, decoded from the raw bytes where that gives
    the same text (one value), without pydicom converting the element."""
    raw = elements(ds).get(BaseTag(tag))
    if raw is None:
        return ""
    value = ElementView(ds, BaseTag(tag), codec, raw).value
    if not isinstance(value, str):
        value = ds.get(name, "")  # several values: pydicom's text of them, as before
    return str(value or "").strip()


def scrub_header(
    ds: Dataset,
    policy: Policy,
    phi: PhiValues,
    *,
    table: RuleTable | None = None,
) -> HeaderResult:
    """De-identify the data set (not its file meta) of ``ds`` in place.

    ``phi`` must have been collected from ``ds`` before any change. The original
    PatientID (or, without one, the PatientName, then the StudyInstanceUID) keys the
    pseudonym and the date shift.
    """
    codec = simple_codec(ds)
    original = _original_text(ds, _PATIENT_ID, "PatientID", codec)
    if not original:
        original = "name:" + _original_text(ds, _PATIENT_NAME, "PatientName", codec)
    if original == "name:":
        original = "study:" + _original_text(ds, 0x0020000D, "StudyInstanceUID", codec)
    scrubber = _Scrubber(policy, phi, table or load_rule_table(), original, ds)
    scrubber.walk(ds, "")
    # Type 2 in every patient IOD: present them, pseudonymised, even if the source lacked them.
    entry, _ = pseudonym_for(original, policy)
    flags = encoding_of(ds)
    if _PATIENT_NAME not in elements(ds):
        set_string_value(ds, _PATIENT_NAME, "PN", entry.new_name, scrubber.codec, flags)
    if _PATIENT_ID not in elements(ds):
        set_string_value(ds, _PATIENT_ID, "LO", entry.new_id, scrubber.codec, flags)
    return scrubber.result


def iter_uid_elements(ds: Dataset) -> Iterator[DataElement]:
    """Every UI element of ``ds`` at every depth (used by tests and verification)."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value or ():
                yield from iter_uid_elements(item)
        elif elem.VR == "UI":
            yield elem
