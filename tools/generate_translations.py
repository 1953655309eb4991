"""Write the `entity` section of translations/en.json: fixed entities, and curated variables on every platform.

A curated variable's platform depends on what the station reports (a read-only boolean is a binary sensor, a
writable one a switch), so its name is written for every platform it can appear on. Run after changing
`station/variable_kinds.py` CURATED or the names below: `.venv/bin/python tools/generate_translations.py`.
`tests/test_translations.py` fails when the file is out of date.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.ocpp_csms.station.variable_kinds import CURATED

TRANSLATIONS = Path(__file__).resolve().parent.parent / "custom_components" / "ocpp_csms" / "translations" / "en.json"
VARIABLE_PLATFORMS = ("binary_sensor", "number", "select", "sensor", "switch", "text")

CURATED_NAMES = {
    "station_availability_state": "Station availability",
    "station_supply_phases": "Station supply phases",
    "evse_availability_state": "Availability",
    "evse_rated_power": "Present power",
    "evse_supply_phases": "Supply phases",
    "connector_availability_state": "Connector availability",
    "connector_type": "Connector type",
    "connector_supply_phases": "Connector supply phases",
    "heartbeat_interval": "Heartbeat interval",
    "offline_threshold": "Offline threshold",
    "websocket_ping_interval": "WebSocket ping interval",
    "message_timeout": "Message timeout",
    "tx_updated_interval": "Meter value interval during transactions",
    "tx_updated_measurands": "Measurands during transactions",
    "tx_started_measurands": "Measurands at transaction start",
    "tx_ended_measurands": "Measurands at transaction end",
    "tx_ended_interval": "Transaction end sample interval",
    "aligned_data_interval": "Clock-aligned meter value interval",
    "aligned_data_measurands": "Clock-aligned measurands",
    "aligned_data_tx_ended_measurands": "Clock-aligned measurands at transaction end",
    "smart_charging_enabled": "Smart charging",
    "charging_rate_unit": "Charging rate units",
    "periods_per_schedule": "Periods per schedule",
    "profile_stack_level": "Highest profile stack level",
    "charging_profile_entries": "Charging profiles installed",
    "limit_change_significance": "Limit change significance",
    "ac_phase_switching_supported": "Phase switching supported",
    "phases_3_to_1": "Switch from 3 to 1 phase",
    "tx_start_point": "Transaction start point",
    "tx_stop_point": "Transaction stop point",
    "ev_connection_timeout": "EV connection timeout",
    "stop_tx_on_ev_side_disconnect": "Stop transaction when the EV disconnects",
    "stop_tx_on_invalid_id": "Stop transaction on invalid ID",
    "authorization_enabled": "Authorization",
    "authorize_remote_start": "Authorize remote start",
    "local_authorize_offline": "Authorize locally while offline",
    "local_pre_authorize": "Authorize locally before asking",
    "auth_cache_enabled": "Authorization cache",
    "local_auth_list_enabled": "Local authorization list",
    "local_auth_list_entries": "Local authorization list entries",
    "reservation_enabled": "Reservations",
    "items_per_message": "Items per message {instance}",
    "bytes_per_message": "Bytes per message {instance}",
    "security_profile": "Security profile",
}

FIXED: dict[str, dict[str, Any]] = {
    "button": {
        "rotate_password": {"name": "Rotate password"},
        "reset_on_idle": {"name": "Reboot when idle"},
        "reset_immediate": {"name": "Reboot now"},
        "unlock_connector": {"name": "Unlock connector"},
    },
    "number": {
        "charging_current_limit": {"name": "Charging current limit"},
        "charging_power_limit": {"name": "Charging power limit"},
        "station_current_limit_cap": {"name": "Station current cap"},
        "station_power_limit_cap": {"name": "Station power cap"},
    },
    "switch": {
        "charging": {"name": "Charging"},
        "availability": {"name": "Available"},
        "station_availability": {"name": "Station available"},
    },
    "event": {
        "token_presented": {
            "name": "ID token presented",
            "state_attributes": {
                "event_type": {"state": {"accepted": "Accepted", "rejected": "Rejected"}},
            },
        },
        "external_charging_limit": {
            "name": "External charging limit",
            "state_attributes": {
                "event_type": {"state": {"notified": "Limit set", "cleared": "Limit cleared"}},
            },
        },
    },
    "sensor": {
        "charging_state": {
            "name": "Charging state",
            "state": {
                "charging": "Charging",
                "evconnected": "EV connected",
                "suspendedev": "Suspended by the EV",
                "suspendedevse": "Suspended by the charger",
                "idle": "Idle",
            },
        },
        "connector_status": {
            "name": "Connector status",
            "state": {
                "available": "Available",
                "occupied": "Occupied",
                "reserved": "Reserved",
                "unavailable": "Unavailable",
                "faulted": "Faulted",
            },
        },
        "current_phase": {"name": "Current {phase}"},
        "voltage_phase": {"name": "Voltage {phase}"},
        "current_offered": {"name": "Current offered"},
        "power_offered": {"name": "Power offered"},
        "session_energy": {"name": "Session energy"},
        "session_duration": {"name": "Session duration"},
        "transaction_id": {"name": "Transaction ID"},
        "stopped_reason": {"name": "Last stop reason"},
        "id_token": {"name": "Session ID token"},
        "lifetime_energy": {"name": "Energy"},
        "composite_schedule": {"name": "Charging limit in force"},
        "external_charging_limit": {"name": "External charging limit"},
    },
}


def entity_section() -> dict[str, dict[str, Any]]:
    """The `entity` section: fixed entities, then every curated variable on every variable platform."""
    section: dict[str, dict[str, Any]] = {platform: dict(keys) for platform, keys in FIXED.items()}
    keys = sorted({variable.translation_key for variable in CURATED.values()})
    missing = [key for key in keys if key not in CURATED_NAMES]
    if missing:
        raise SystemExit(f"no English name for curated translation keys: {missing}")
    for platform in VARIABLE_PLATFORMS:
        names = section.setdefault(platform, {})
        for key in keys:
            names.setdefault(key, {"name": CURATED_NAMES[key]})
    return {platform: dict(sorted(section[platform].items())) for platform in sorted(section)}


def main() -> None:
    """Rewrite en.json's entity section in place."""
    data = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    data["entity"] = entity_section()
    TRANSLATIONS.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
