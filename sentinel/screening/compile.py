"""Compile the name-matching modules with Cython, next to their sources.

``python -m sentinel.screening.compile`` (``make`` runs it before ``run``, ``test`` and
``bench``). Screening costs every transaction CPU in the worker, and nearly all of it is the
interpreter's own work on a few dozen small objects per name: compiled, the same code runs
in about a fifth less CPU (docs/screening.md § Performance). The sources stay the truth: a
compiled module is used only while its source is unchanged (``matching/__init__.py``), and
where there is no C compiler (or no Cython) this exits 1 and the sources run as they are.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from .matching import BUILT, COMPILED, source_hash

MATCHING = Path(__file__).resolve().parent / "matching"
ROOT = MATCHING.parents[2]
PACKAGE = "sentinel.screening.matching"
# Compiled as plain Python: type annotations are documentation here, not C types (Cython's
# annotation_typing would turn a ``list`` annotation into a type check).
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True}


def compile_matching() -> list[str]:
    """Build every module of ``COMPILED`` in place; record the sources built from."""
    from Cython.Build import cythonize  # the build's tool, not the product's dependency
    from setuptools import Distribution, Extension

    hashes = {name: source_hash(MATCHING / f"{name}.py") for name in COMPILED}
    with tempfile.TemporaryDirectory() as build:
        extensions = cythonize(
            [
                Extension(f"{PACKAGE}.{name}", [str((MATCHING / f"{name}.py").relative_to(ROOT))])
                for name in COMPILED
            ],
            compiler_directives=DIRECTIVES,
            build_dir=build,
            quiet=True,
        )
        distribution = Distribution({"ext_modules": extensions, "script_name": "compile"})
        command = distribution.get_command_obj("build_ext")
        command.inplace = True
        command.build_temp = command.build_lib = build
        command.ensure_finalized()
        command.run()
    (MATCHING / BUILT).write_text(json.dumps(hashes, indent=2) + "\n")
    return list(COMPILED)


def main() -> int:
    os.chdir(ROOT)  # build_ext places in-place builds by package path, from here
    try:
        built = compile_matching()
    except Exception as error:  # noqa: BLE001  no compiler, no Cython: the sources run
        print(f"Screening runs uncompiled ({type(error).__name__}: {error}).", file=sys.stderr)
        return 1
    print(f"Compiled {', '.join(built)} ({PACKAGE}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
