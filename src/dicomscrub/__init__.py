"""dicomscrub: standard-driven DICOM de-identification."""

__version__ = "0.1.0"
