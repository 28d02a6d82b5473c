"""Loading of the packaged physics data files (``physics/data/*.yaml``); read once, cached."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load(name: str) -> dict[str, Any]:
    """Return the parsed YAML file ``physics/data/<name>.yaml`` (no run-time downloads)."""
    text = resources.files("radiotrial.physics").joinpath("data", f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)
