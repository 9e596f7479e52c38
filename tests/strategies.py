"""Hypothesis strategies: PHI markers, UIDs, and where to plant them."""

from __future__ import annotations

from hypothesis import strategies as st

#: Markers are upper-case words no DICOM dictionary or dummy value contains.
phi_marker = st.text(alphabet="BCDFGHJKLMNPQRSTVWXZ", min_size=7, max_size=12).map(
    lambda s: "Q" + s
)

uid_component = st.one_of(
    st.just("0"),
    st.integers(min_value=1, max_value=10**12).map(str),
)
valid_uid = (
    st.lists(uid_component, min_size=2, max_size=8).map(".".join).filter(lambda u: len(u) <= 64)
)

#: Sequences to nest inside one another, from the table's walked ones (U, D, C) and
#: unlisted ones (kept and walked).
nesting_sequences = st.sampled_from(
    [
        "ReferencedImageSequence",  # X/Z/U*
        "SourceImageSequence",  # X/Z/U*
        "ContentSequence",  # D
        "AnatomicRegionSequence",  # not in the table: walked
        "DerivationCodeSequence",  # not in the table: walked
    ]
)

#: Where a marker goes inside an item: (keyword, VR, how the marker is embedded).
plant_sites = st.sampled_from(
    [
        ("PatientName", "PN", "{m}^{m}"),
        ("ReferringPhysicianName", "PN", "{m}"),
        ("OperatorsName", "PN", "{m}^DOE"),
        ("PatientID", "LO", "{m}"),
        ("OtherPatientIDs", "LO", "{m}"),
        ("PatientAddress", "LO", "1 {m} Street"),
        ("InstitutionName", "LO", "{m} Hospital"),
        ("AccessionNumber", "SH", "{m}"[:16]),
        ("ImageComments", "LT", "seen by {m}"),
        ("PatientBirthName", "PN", "{m}"),
        ("TextValue", "UT", "patient {m} discussed"),
    ]
)
