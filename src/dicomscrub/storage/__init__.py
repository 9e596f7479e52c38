"""Reading inputs and writing outputs, wherever they live.

This package is the only place that knows about file systems and object stores (and
:mod:`dicomscrub.storage.fs` the only module importing fsspec); the rest of dicomscrub
names locations by URL strings (a local path is a URL too) and calls the functions
re-exported here, passing the job's :class:`Integration` for remote URLs.
"""

from dicomscrub.storage.access import check_access
from dicomscrub.storage.inputs import InputRef, is_dicom_candidate, iter_inputs
from dicomscrub.storage.integrations import Integration, load_integration, storage_options
from dicomscrub.storage.io import (
    delete,
    exists,
    local_path,
    open_read,
    read_bytes,
    same_location,
    write_atomic,
    write_atomic_file,
)
from dicomscrub.storage.naming import output_url

__all__ = [
    "InputRef",
    "Integration",
    "check_access",
    "delete",
    "exists",
    "is_dicom_candidate",
    "iter_inputs",
    "load_integration",
    "local_path",
    "open_read",
    "output_url",
    "read_bytes",
    "same_location",
    "storage_options",
    "write_atomic",
    "write_atomic_file",
]
