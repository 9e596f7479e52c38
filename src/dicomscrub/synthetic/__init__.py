"""Synthetic PHI-bearing DICOM for the demo, the tests and the benchmarks.

Everything here is invented: no real person's data is used. See
:mod:`dicomscrub.synthetic.patients` for the public names.
"""
