"""Vendored JSON schemas the in-situ imports validate against (see each folder's PROVENANCE.md)."""
