"""The ASGI entry point, as uvicorn loads it in each web process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_application_freezes_the_start_up_objects_out_of_the_collector():
    """Full collections then walk only what requests made: a request-time pause of ~90 ms
    each with the start-up objects in sight (the ?wait=true p99), ~10-20 ms frozen."""
    probe = "import gc, sentinel.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    frozen = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert int(frozen.stdout.strip()) > 50_000
