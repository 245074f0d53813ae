"""The compiled copies of the matching modules (sentinel/screening/compile.py): used only while
built from the current source, and giving the same matches as the source."""

from __future__ import annotations

import importlib.machinery
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentinel.screening import matching
from sentinel.screening.matching import BUILT, COMPILED, source_hash, stale_modules
from sentinel.screening.matching.index import ListedName, Party, ScreeningIndex

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _package(tmp_path: Path, *, compiled: tuple[str, ...], recorded: dict[str, str]) -> Path:
    for name in COMPILED:
        (tmp_path / f"{name}.py").write_text(f"NAME = {name!r}\n")
    for name in compiled:
        (tmp_path / f"{name}{SUFFIX}").write_bytes(b"\x7fELF")
    (tmp_path / BUILT).write_text(json.dumps(recorded))
    return tmp_path


def test_a_compiled_module_built_from_its_current_source_is_current(tmp_path):
    directory = _package(tmp_path, compiled=("index",), recorded={})
    (directory / BUILT).write_text(json.dumps({"index": source_hash(directory / "index.py")}))

    assert stale_modules(directory) == set()


def test_a_source_changed_since_its_build_makes_the_compiled_copy_stale(tmp_path):
    directory = _package(tmp_path, compiled=("index", "names"), recorded={})
    (directory / BUILT).write_text(
        json.dumps({name: source_hash(directory / f"{name}.py") for name in COMPILED})
    )
    (directory / "names.py").write_text("NAME = 'names, edited'\n")

    assert stale_modules(directory) == {"names"}


def test_a_compiled_copy_without_a_record_is_stale_and_no_copy_is_nothing(tmp_path):
    directory = _package(tmp_path, compiled=("scoring",), recorded={})
    (directory / BUILT).write_text("not json")

    assert stale_modules(directory) == {"scoring"}
    assert stale_modules(tmp_path / "nowhere") == set()


NAMES = [
    ("Yusuf Ibrahim Al-Amri", "person"),
    ("Mohammed Abdul Rahman", "person"),
    ("Olga Petrova", "person"),
    ("Golden Star Shipping Co LLC", "entity"),
    ("Li Wei", "person"),
]
QUERIES = [
    "Youssef Ebrahim Alamri",
    "Abdulrahman Mohamed",
    "Olga Petrowa",
    "Golden Star Shipping",
    "Wei Li",
    "George Bush",
    "Mhmd Abdul Rahman",
]
SCRIPT = """
import json, sys
from sentinel.screening.matching import COMPILED, _SourceFirst
sys.meta_path.insert(0, _SourceFirst(set(COMPILED)))
from sentinel.screening.matching.index import ListedName, Party, ScreeningIndex
names, queries = json.loads(sys.stdin.read())
index = ScreeningIndex(
    ListedName(n, "test", "sanctions", kind, name, "strong") for n, (name, kind) in enumerate(names)
)
import sentinel.screening.matching.index as module
print(json.dumps([module.__file__, [
    [[m.entry_id, m.score, m.explanation()] for m in index.screen(Party(q))] for q in queries
]]))
"""


def _screened() -> list:
    index = ScreeningIndex(
        ListedName(n, "test", "sanctions", kind, name, "strong")
        for n, (name, kind) in enumerate(NAMES)
    )
    return [
        [[m.entry_id, m.score, m.explanation()] for m in index.screen(Party(q))] for q in QUERIES
    ]


def test_the_compiled_modules_match_as_their_sources_do():
    loaded = sys.modules["sentinel.screening.matching.index"].__file__
    if not loaded.endswith(SUFFIX):
        pytest.skip("the matching modules are not compiled here (no C compiler)")

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps([NAMES, QUERIES]),
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(matching.__file__).parents[3],
    )
    source_file, from_source = json.loads(result.stdout)

    assert source_file.endswith("index.py")
    assert json.loads(json.dumps(_screened())) == from_source
    assert any(from_source)  # matches to compare, not only empty answers
