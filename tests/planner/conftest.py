"""Fixtures of the planner tests: no Home Assistant."""

from __future__ import annotations

import pytest

from custom_components.ocpp_csms.charging.profiles import ProfileAllocator


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: these HA-free tests need no Home Assistant instance."""


@pytest.fixture
def fixed_allocator() -> ProfileAllocator:
    """A station with stack levels 0-8."""
    return ProfileAllocator(max_stack_level=8)
