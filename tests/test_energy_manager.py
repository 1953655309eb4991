"""The energy manager end to end: real Home Assistant, input numbers as the site's sensors, simulated stations."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.ocpp_csms.energy.manager import VALIDITY

from .conftest import SetupIntegration, wait_for
from .energy_fixtures import FUSE_SITE, energy_site, installed, live_limit, manager_state, plug_and_charge, set_mode


async def test_fast_mode_sends_a_limit_valid_for_a_while_over_a_safe_limit(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, FUSE_SITE) as (entry, (station,)):
        assert manager_state(hass, "sim-001").state == "manual"
        await plug_and_charge(station)
        await set_mode(hass, "sim-001", 1, "fast")
        await wait_for(lambda: live_limit(station) == 16.0)
        profiles = installed(station)
        assert [(p.purpose, p.periods[0].limit, p.valid_to is None) for p in profiles] == [
            ("TxDefaultProfile", 16.0, False),
            ("TxProfile", 16.0, False),
            ("TxDefaultProfile", 0.0, True),
        ]
        assert manager_state(hass, "sim-001").state == "charging_fast"
        assert entry.runtime_data.energy.decision("sim-001", 1) is not None
        assert VALIDITY
