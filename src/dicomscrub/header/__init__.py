"""Header de-identification: walk a Dataset and apply PS3.15 rules at every depth."""

from dicomscrub.header.engine import AppliedAction, HeaderResult, scrub_header
from dicomscrub.header.provenance import add_provenance, rewrite_file_meta
from dicomscrub.header.uids import is_valid_uid, remap_uid

__all__ = [
    "AppliedAction",
    "HeaderResult",
    "add_provenance",
    "is_valid_uid",
    "remap_uid",
    "rewrite_file_meta",
    "scrub_header",
]
