"""Run functions for sweeps driven from tests; importable by name, so spawned pool workers can unpickle them."""

from __future__ import annotations

import os
import time
from pathlib import Path


def block_forever(spec, data, **kwargs):
    """Say that this run started (a file named after this process in $HELMHOLTZ_TEST_MARKERS), then never end."""
    markers = Path(os.environ["HELMHOLTZ_TEST_MARKERS"])
    (markers / f"{os.getpid()}-{spec['arch']}-{spec['seed']}").touch()
    time.sleep(3600)
    raise AssertionError("the test should have killed this run")
