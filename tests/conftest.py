"""Shared fixtures.

The Home Assistant test plugin ships a `custom_components` package of its own; importing ours here, before the
`hass` fixture mounts its config dir, makes `custom_components.ocpp_csms` resolvable to this checkout.
"""

import pytest

import custom_components.ocpp_csms  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components in every test."""
