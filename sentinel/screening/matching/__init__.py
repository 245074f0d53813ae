"""Name matching: preparing names, retrieving candidates, scoring them.

The modules listed in ``COMPILED`` may also exist compiled by Cython (``make`` builds them
with ``python -m sentinel.screening.compile``; screening CPU is on every transaction's path).
A compiled module is the same source, and it is used only while it is: ``compiled.json``
records the hash of each source it was built from, and a module whose source has changed
since is imported from its source instead (``_SourceFirst``), so an edit is never hidden by
an older build. Without a C compiler nothing is built and the sources run as they are.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path

COMPILED = ("names", "scoring", "vocabulary", "positions", "index")
BUILT = "compiled.json"
_HERE = Path(__file__).resolve().parent


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stale_modules(directory: Path = _HERE) -> set[str]:
    """The modules with a compiled copy in ``directory`` that was not built from their
    current source (or whose build is not recorded)."""
    try:
        built = json.loads((directory / BUILT).read_text())
    except (OSError, ValueError):
        built = {}
    stale = set()
    for name in COMPILED:
        compiled = [
            path
            for suffix in importlib.machinery.EXTENSION_SUFFIXES
            if (path := directory / f"{name}{suffix}").exists()
        ]
        if compiled and built.get(name) != source_hash(directory / f"{name}.py"):
            stale.add(name)
    return stale


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Imports the named modules of this package from their ``.py`` source."""

    def __init__(self, names: set[str]):
        self.names = {f"{__name__}.{name}" for name in names}

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        source = _HERE / f"{fullname.rsplit('.', 1)[1]}.py"
        return importlib.util.spec_from_file_location(fullname, source)


if _stale := stale_modules():
    sys.meta_path.insert(0, _SourceFirst(_stale))
