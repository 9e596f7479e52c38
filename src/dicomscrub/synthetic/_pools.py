"""Invented names, places and institutions that the synthetic patients are drawn from.

Every entry is fictional. Names are chosen long (5+ letters) and unusual so that a
case-insensitive search for them in a de-identified file cannot match ordinary DICOM
text (keywords, code meanings, transfer syntax names) by accident.
"""

from __future__ import annotations

from typing import Final

PATIENT_FAMILY_NAMES: Final = (
    "HARTMANN",
    "OYELARAN",
    "KOWALCZYK",
    "FENWICKE",
    "BRANDSTETTER",
    "NAKAMURA",
    "OKONKWO",
    "LINDQVIST",
    "PETRESCU",
    "DAMBROSIO",
    "HOLLOWAY",
    "ESPINOZA",
    "MAKAROVA",
    "THORVALDSEN",
    "QUARSHIE",
    "ZELLWEGER",
    "ABERNATHY",
    "CASTELLANOS",
    "RADEMACHER",
    "VILLANUEVA",
    "OSTROWSKI",
    "KEMPINSKI",
    "GUNNARSDOTTIR",
    "MORTIMER",
)

PATIENT_GIVEN_NAMES: Final = (
    "GRETA",
    "AMARA",
    "TOBIAS",
    "WOJCIECH",
    "ISOLDE",
    "MATTHIAS",
    "CHIDUBEM",
    "ELEONORE",
    "BARNABY",
    "SVETLANA",
    "OSWALDO",
    "PRISCILLA",
    "LEOPOLD",
    "YUKIKO",
    "FERDINAND",
    "AUGUSTINA",
    "CORNELIUS",
    "HENRIETTA",
    "IGNATIUS",
    "DOROTHEA",
    "KASIMIR",
    "WINIFRED",
)

#: The entries of PATIENT_GIVEN_NAMES given to women; the others are men's.
FEMALE_GIVEN_NAMES: Final = frozenset(
    {
        "GRETA",
        "AMARA",
        "ISOLDE",
        "ELEONORE",
        "SVETLANA",
        "PRISCILLA",
        "YUKIKO",
        "AUGUSTINA",
        "HENRIETTA",
        "DOROTHEA",
        "WINIFRED",
    }
)

STAFF_FAMILY_NAMES: Final = (
    "VOSSBERG",
    "ACHTERBERG",
    "DELACROIX",
    "FAIRCHILD",
    "HOLLENBECK",
    "SZYMANSKI",
    "WETHERBY",
    "ROSENQUIST",
    "CALLOWAY",
    "TREMBLAY",
    "KRISTIANSEN",
    "MBANEFO",
    "PAPADOPOULOU",
    "LAUTERBACH",
)

STAFF_GIVEN_NAMES: Final = (
    "KLAUS",
    "MIRIAM",
    "HORATIO",
    "BEATRIX",
    "LUDWIG",
    "SIOBHAN",
    "TADEUSZ",
    "ROSALIND",
    "EVARISTO",
    "CONSTANZE",
    "OLUWASEUN",
    "GWENDOLYN",
)

STREETS: Final = (
    "Lindenweg",
    "Kastanienallee",
    "Juniper Crescent",
    "Wexford Lane",
    "Marlowe Street",
    "Birchfield Road",
    "Quillan Avenue",
    "Thornbury Close",
    "Ashgrove Terrace",
    "Pellham Row",
)

CITIES: Final = (
    "Oakridge",
    "Marlbury",
    "Eastwick",
    "Fernhollow",
    "Stonebridge",
    "Westerhaven",
)

#: (name, address, application entity title)
INSTITUTIONS: Final = (
    ("Saint Agatha Memorial Hospital", "1 Hospital Drive, Marlbury", "STAGATHA"),
    ("Riverside Lakeshore Clinic", "200 Lakeshore Parkway, Eastwick", "RIVLAKESHORE"),
    ("Hollowmere University Medical Center", "9 Campus Loop, Fernhollow", "HOLLOWMERE"),
    ("Kestrel Valley Imaging Institute", "77 Kestrel Valley Road, Oakridge", "KESTRELVALLEY"),
    ("Northgate Cardiothoracic Centre", "3 Northgate Square, Stonebridge", "NORTHGATECC"),
)
