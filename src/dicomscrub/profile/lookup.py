"""The user's patient lookup table: a CSV giving each original PatientID its new identity.

::

    original_id,new_id,new_name
    12345,SUBJ-001,SUBJECT^001

The header may also be spelled ``PatientID,NewPatientID,NewPatientName`` (any case).
``new_name`` may be empty or its column absent (the name is then left to the
pseudonym rules). Error messages name the file and line, never the IDs: the
table is PHI.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Final, TextIO

from dicomscrub.errors import ConfigError
from dicomscrub.profile.policy import PatientEntry

__all__ = ["load_patient_lookup"]

# Each column, by the lower-cased header spellings accepted for it.
_COLUMNS: Final[dict[str, frozenset[str]]] = {
    "original_id": frozenset({"original_id", "patientid"}),
    "new_id": frozenset({"new_id", "newpatientid"}),
    "new_name": frozenset({"new_name", "newpatientname"}),
}


def load_patient_lookup(path: Path) -> dict[str, PatientEntry]:
    """Read the lookup table at ``path`` into ``{original PatientID: PatientEntry}``.

    Raises :class:`ConfigError` for a missing file, missing columns, an empty
    ``original_id`` or ``new_id``, or an ``original_id`` listed twice.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(path, handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: patient lookup table does not exist") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: patient lookup table is not UTF-8 text") from None
    except csv.Error as exc:
        # csv.Error messages describe the syntax ("field larger than field limit"),
        # never the field's content.
        raise ConfigError(f"{path}: malformed CSV: {exc}") from None


def _read(path: Path, handle: TextIO) -> dict[str, PatientEntry]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise ConfigError(f"{path}, line 1: the file is empty; expected a header row")
    positions = _column_positions(path, header)
    table: dict[str, PatientEntry] = {}
    first_seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: _cell(row, positions.get(name)) for name in _COLUMNS}
        original = cells["original_id"]
        if not original:
            raise ConfigError(f"{path}, line {line}: original_id is empty")
        if not cells["new_id"]:
            raise ConfigError(f"{path}, line {line}: new_id is empty")
        if original in table:
            raise ConfigError(
                f"{path}, line {line}: original_id repeats the one on line {first_seen[original]}"
            )
        first_seen[original] = line
        table[original] = PatientEntry(new_id=cells["new_id"], new_name=cells["new_name"])
    return table


def _column_positions(path: Path, header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for name, spellings in _COLUMNS.items():
            if key in spellings:
                if name in positions:
                    raise ConfigError(f"{path}, line 1: column {name} appears twice in the header")
                positions[name] = index
    missing = [name for name in ("original_id", "new_id") if name not in positions]
    if missing:
        expected = ",".join(_COLUMNS)
        raise ConfigError(
            f"{path}, line 1: missing column(s) {', '.join(missing)}; expected header {expected}"
        )
    return positions


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()
