"""Invariants of the header engine, checked with Hypothesis."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dicomscrub.header.uids import is_valid_uid, remap_uid
from dicomscrub.pipeline import scrub_bytes
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import Policy
from tests.factories import make_dataset, make_patients
from tests.strategies import nesting_sequences, phi_marker, plant_sites, valid_uid

KEY = b"property-test-key-0123456789abcdef"
PATIENT = make_patients(1, 11)[0]
options_strategy = st.sets(
    st.sampled_from(
        [
            Option.CLEAN_DESCRIPTORS,
            Option.CLEAN_STRUCTURED_CONTENT,
            Option.CLEAN_GRAPHICS,
            Option.RETAIN_UIDS,
            Option.RETAIN_SAFE_PRIVATE,
            Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
            Option.RETAIN_DEVICE_IDENTITY,
        ]
    )
).map(frozenset)


def _plant(marker: str, depth_path: list[str], site: tuple[str, str, str], private: bool) -> bytes:
    ds = make_dataset(PATIENT, rows=8, columns=8, seed=11)
    # The marker is this patient's PHI: it is their name (so cleaning recognises it).
    ds.PatientName = f"{marker}^JOHN"
    ds.OtherPatientIDs = marker
    keyword, vr, form = site
    target: Dataset = ds
    for seq_keyword in depth_path:
        item = Dataset()
        setattr(target, seq_keyword, Sequence([item]))
        target = item
    target.add_new(keyword_tag(keyword), vr, form.format(m=marker))
    if private:
        block = target.private_block(0x0011, "HOSPITAL SECRET", create=True)
        block.add_new(0x01, "LO", marker)
        block.add_new(0x02, "SQ", Sequence([Dataset()]))
        block[0x02].value[0].add_new(0x00100010, "PN", marker)
    ds.file_meta.SourceApplicationEntityTitle = marker[:16]
    raw = io.BytesIO()
    ds.save_as(raw, enforce_file_format=True)
    return raw.getvalue()


def keyword_tag(keyword: str) -> int:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    assert tag is not None
    return tag


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    marker=phi_marker,
    depth_path=st.lists(nesting_sequences, min_size=0, max_size=4),
    site=plant_sites,
    private=st.booleans(),
    options=options_strategy,
)
def test_planted_phi_never_survives(
    marker: str,
    depth_path: list[str],
    site: tuple[str, str, str],
    private: bool,
    options: frozenset[Option],
) -> None:
    raw = _plant(marker, depth_path, site, private)
    assert marker.encode() in raw
    out, _ = scrub_bytes(raw, Policy(key=KEY, options=options))
    assert marker.encode() not in out
    assert marker[:16].encode() not in out


@settings(max_examples=25, deadline=None)
@given(marker=phi_marker, options=options_strategy)
def test_the_same_key_gives_the_same_output(marker: str, options: frozenset[Option]) -> None:
    raw = _plant(marker, ["ReferencedImageSequence"], ("PatientID", "LO", "{m}"), True)
    first, _ = scrub_bytes(raw, Policy(key=KEY, options=options))
    second, _ = scrub_bytes(raw, Policy(key=KEY, options=options))
    assert first == second


@given(st.sets(valid_uid, min_size=2, max_size=50), st.binary(min_size=16, max_size=32))
def test_uid_remapping_is_injective_and_valid(uids: set[str], key: bytes) -> None:
    mapped = {remap_uid(uid, key) for uid in uids}
    assert len(mapped) == len(uids)
    for new in mapped:
        assert is_valid_uid(new) and len(new) <= 64 and new.startswith("2.25.")


@given(valid_uid, st.sampled_from(["", "\x00", " "]))
def test_uid_padding_does_not_change_the_mapping(uid: str, pad: str) -> None:
    assert remap_uid(uid + pad, KEY) == remap_uid(uid, KEY)
