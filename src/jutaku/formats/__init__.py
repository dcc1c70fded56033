"""File interfaces of ``shared/spec/interfaces.md``: layouts as data, strict streaming readers and
writers, the Mynaportal ZIP+XML reader and integrity manifests (ADR 0005). Pure: stdlib, ``jutaku.domain``
and defusedxml only."""

from __future__ import annotations

from jutaku.formats.csvio import CsvReader, FileInfo, Row, detect_encoding, prescan, read_csv, write_csv
from jutaku.formats.errors import FieldError, FileRejected, registration_outcome
from jutaku.formats.layouts import LAYOUTS, Column, Layout, get
from jutaku.formats.manifest import (
    Manifest,
    manifest_path_for,
    read_manifest,
    verify_manifest,
    write_manifest,
)
from jutaku.formats.portal import prescan_portal, read_portal_zip
from jutaku.formats.validate import compile_layout, validate_row

__all__ = [
    "LAYOUTS",
    "Column",
    "CsvReader",
    "FieldError",
    "FileInfo",
    "FileRejected",
    "Layout",
    "Manifest",
    "Row",
    "compile_layout",
    "detect_encoding",
    "get",
    "manifest_path_for",
    "prescan",
    "prescan_portal",
    "read_csv",
    "read_manifest",
    "read_portal_zip",
    "registration_outcome",
    "validate_row",
    "verify_manifest",
    "write_csv",
    "write_manifest",
]
