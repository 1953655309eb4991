"""Fixtures of the energy manager's core tests: no Home Assistant."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: these HA-free tests need no Home Assistant instance."""
