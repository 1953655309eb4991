"""Translations and icons: generated sections current, every key the code uses written out in English."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import sys
from typing import Any

import pytest

from custom_components.ocpp_csms.charging.profiles import ProfileProblem

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "ocpp_csms"
sys.path.insert(0, str(ROOT / "tools"))
import generate_translations  # noqa: E402

EN = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
#: The helpers that raise translated errors, and where their translation key is.
ERROR_HELPERS = {"station_error": 0, "user_error": 0}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant needed here."""


def test_generated_sections_are_current() -> None:
    stale = [path.name for path, text in generate_translations.outputs().items() if path.read_text() != text]
    assert stale == [], "run .venv/bin/python tools/generate_translations.py"


def test_no_unresolved_references() -> None:
    """Custom integrations' `[%key:...]` references are shown raw: every string is written out."""
    text = (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    assert "[%key:" not in text


def test_curated_variables_have_icons_on_every_platform() -> None:
    icons = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))["entity"]
    for platform in ("number", "sensor", "switch", "select", "text", "binary_sensor"):
        assert icons[platform]["heartbeat_interval"] == {"default": "mdi:heart-pulse"}


def _literal_keys() -> set[str]:
    """Translation keys given as literals to the error helpers and to `translation_key=` anywhere."""
    keys: set[str] = set()
    for source in INTEGRATION.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in ERROR_HELPERS and node.args and isinstance(node.args[0], ast.Constant):
                keys.add(str(node.args[0].value))
    return keys


def test_every_raised_error_is_translated() -> None:
    exceptions: dict[str, Any] = EN["exceptions"]
    used = _literal_keys() | {"command_refused", "station_not_connected", "station_timeout", "station_error"}
    used |= {"station_invalid_response", "invalid_request", "password_rejected", "port_unavailable"}
    used |= {f"profile_{problem.value}" for problem in ProfileProblem}
    used |= {"certificates_missing", "certificates_invalid"}
    missing = sorted(key for key in used if key not in exceptions)
    assert missing == []
    assert all(exceptions[key]["message"].strip() for key in used)


def test_the_approval_button_says_what_it_does() -> None:
    assert EN["config"]["step"]["approve"]["submit"] == "Add station"
    assert "random" in EN["config"]["step"]["approve"]["description"]  # a station without a password gets one
