"""Unit tests of the Python integer code (run from the repo root, see test_intops.py)."""
