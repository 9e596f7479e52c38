"""Keyed pseudonyms for PatientID and PatientName."""

from __future__ import annotations

import base64
import hashlib
import hmac

from dicomscrub.profile.policy import PatientEntry, Policy

__all__ = ["pseudonym_for"]


def _code(key: bytes, original: str) -> str:
    digest = hmac.new(key, b"patient|" + original.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii")  # 16 characters, A-Z2-7


def pseudonym_for(original_id: str, policy: Policy) -> tuple[PatientEntry, str]:
    """The new identity of the patient whose original PatientID is ``original_id``.

    From the user's lookup table when it has the patient, otherwise a keyed pseudonym
    (the same for the same patient in every run with the same key). Returns the entry
    and its source, ``"lookup"`` or ``"keyed"``.
    """
    if policy.patient_lookup is not None and original_id in policy.patient_lookup:
        return policy.patient_lookup[original_id], "lookup"
    code = _code(policy.key, original_id)
    return PatientEntry(new_id=f"ANON{code[:12]}", new_name=f"ANON^{code[:12]}"), "keyed"
