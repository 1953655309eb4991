"""The station package is HA-free: its tests need no Home Assistant instance."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture, so these tests do not start Home Assistant (as tests/csms does)."""
