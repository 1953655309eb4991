"""Write the `entity` sections of translations/en.json and icons.json: fixed entities and curated variables.

A curated variable's platform depends on what the station reports (a read-only boolean is a binary sensor, a
writable one a switch), so its name and icon are written for every platform it can appear on. Run after changing
`station/variable_kinds.py` CURATED or the tables below: `.venv/bin/python tools/generate_translations.py`.
`tests/test_translations.py` fails when either file is out of date.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.ocpp_csms.station.variable_kinds import CURATED
from custom_components.ocpp_csms.value_names import ENUM_VALUES, NAMES, state_key

INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / "ocpp_csms"
TRANSLATIONS = INTEGRATION / "translations" / "en.json"
ICONS = INTEGRATION / "icons.json"
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
    "websocket_ping_interval": "Ping interval",
    "message_timeout": "Message timeout",
    "tx_updated_interval": "Meter interval",
    "tx_updated_measurands": "Measurands",
    "tx_started_measurands": "Start measurands",
    "tx_ended_measurands": "End measurands",
    "tx_ended_interval": "End sample interval",
    "aligned_data_interval": "Aligned meter interval",
    "aligned_data_measurands": "Aligned measurands",
    "aligned_data_tx_ended_measurands": "Aligned end measurands",
    "smart_charging_enabled": "Smart charging",
    "charging_rate_unit": "Charging rate units",
    "periods_per_schedule": "Periods per schedule",
    "profile_stack_level": "Profile stack levels",
    "charging_profile_entries": "Charging profiles installed",
    "limit_change_significance": "Limit change significance",
    "ac_phase_switching_supported": "Phase switching supported",
    "phases_3_to_1": "Switch from 3 to 1 phase",
    "tx_start_point": "Start point",
    "tx_stop_point": "Stop point",
    "ev_connection_timeout": "EV connection timeout",
    "stop_tx_on_ev_side_disconnect": "Stop on EV disconnect",
    "stop_tx_on_invalid_id": "Stop on invalid ID",
    "authorization_enabled": "Authorization",
    "authorize_remote_start": "Authorize remote start",
    "local_authorize_offline": "Offline authorization",
    "local_pre_authorize": "Local pre-authorization",
    "master_pass_group": "Master pass group",
    "auth_cache_enabled": "Authorization cache",
    "local_auth_list_enabled": "Local list",
    "local_auth_list_entries": "Local list entries",
    "reservation_enabled": "Reservations",
    "items_per_message": "Items per message {instance}",
    "bytes_per_message": "Bytes per message {instance}",
    "security_profile": "Security profile",
}

CURATED_ICONS = {
    "ac_phase_switching_supported": "mdi:sine-wave",
    "aligned_data_interval": "mdi:clock-outline",
    "aligned_data_measurands": "mdi:format-list-checks",
    "aligned_data_tx_ended_measurands": "mdi:format-list-checks",
    "auth_cache_enabled": "mdi:cached",
    "authorization_enabled": "mdi:shield-account-outline",
    "authorize_remote_start": "mdi:remote",
    "bytes_per_message": "mdi:numeric",
    "charging_profile_entries": "mdi:counter",
    "charging_rate_unit": "mdi:tune-variant",
    "connector_availability_state": "mdi:ev-plug-type2",
    "connector_supply_phases": "mdi:sine-wave",
    "connector_type": "mdi:ev-plug-type2",
    "ev_connection_timeout": "mdi:timer-alert-outline",
    "evse_availability_state": "mdi:ev-station",
    "evse_rated_power": "mdi:flash",
    "evse_supply_phases": "mdi:sine-wave",
    "heartbeat_interval": "mdi:heart-pulse",
    "items_per_message": "mdi:numeric",
    "limit_change_significance": "mdi:delta",
    "local_auth_list_enabled": "mdi:format-list-bulleted",
    "local_auth_list_entries": "mdi:counter",
    "local_authorize_offline": "mdi:cloud-off-outline",
    "local_pre_authorize": "mdi:card-account-details-star-outline",
    "master_pass_group": "mdi:police-badge-outline",
    "message_timeout": "mdi:timer-sand",
    "offline_threshold": "mdi:lan-disconnect",
    "periods_per_schedule": "mdi:calendar-clock",
    "phases_3_to_1": "mdi:sine-wave",
    "profile_stack_level": "mdi:layers-outline",
    "reservation_enabled": "mdi:calendar-check",
    "security_profile": "mdi:shield-lock-outline",
    "smart_charging_enabled": "mdi:auto-mode",
    "station_availability_state": "mdi:ev-station",
    "station_supply_phases": "mdi:sine-wave",
    "stop_tx_on_ev_side_disconnect": "mdi:power-plug-off-outline",
    "stop_tx_on_invalid_id": "mdi:card-account-details-outline",
    "tx_ended_interval": "mdi:timer-outline",
    "tx_ended_measurands": "mdi:format-list-checks",
    "tx_start_point": "mdi:play-circle-outline",
    "tx_started_measurands": "mdi:format-list-checks",
    "tx_stop_point": "mdi:stop-circle-outline",
    "tx_updated_interval": "mdi:timer-outline",
    "tx_updated_measurands": "mdi:format-list-checks",
    "websocket_ping_interval": "mdi:lan-pending",
}

FIXED_ICONS: dict[str, dict[str, str]] = {
    "button": {
        "refresh_inventory": "mdi:database-refresh",
        "rotate_password": "mdi:key-change",
        "unlock_connector": "mdi:lock-open-variant",
        "clear_cache": "mdi:cached",  # authorization (C, D, H)
    },
    "event": {
        "external_charging_limit": "mdi:transmission-tower",
        "token_presented": "mdi:card-account-details",
        "reservation_ended": "mdi:calendar-remove",  # authorization (C, D, H)
    },
    "number": {
        "charging_current_limit": "mdi:current-ac",
        "charging_power_limit": "mdi:flash",
        "station_current_limit_cap": "mdi:current-ac",
        "station_power_limit_cap": "mdi:flash",
    },
    "sensor": {
        "charging_state": "mdi:ev-station",
        "composite_schedule": "mdi:chart-timeline-variant",
        "connector_status": "mdi:ev-plug-type2",
        "station_status": "mdi:ev-station",
        "current_offered": "mdi:current-ac",
        "external_charging_limit": "mdi:transmission-tower",
        "id_token": "mdi:card-account-details-outline",
        "soc": "mdi:battery-charging-outline",
        "session_duration": "mdi:timer-outline",
        "stopped_reason": "mdi:stop-circle-outline",
        "transaction_id": "mdi:identifier",
        # Authorization (C, D, H)
        "local_auth_list": "mdi:format-list-checks",
        "reservation": "mdi:calendar-clock",
        # issue 17: certificates, ISO 15118
        "certificate_expiry": "mdi:certificate-outline",
        "ev_departure_time": "mdi:clock-end",
        "ev_max_current": "mdi:current-ac",
        "ev_requested_energy": "mdi:battery-arrow-up",
        "ev_state_of_charge": "mdi:battery-charging-outline",
    },
    "switch": {
        "availability": "mdi:power-plug",
        "charging": "mdi:ev-station",
        "station_availability": "mdi:power-plug",
    },
}

FIXED: dict[str, dict[str, Any]] = {
    "button": {
        "rotate_password": {"name": "Rotate password"},
        "reset_on_idle": {"name": "Reboot when idle"},
        "reset_immediate": {"name": "Reboot now"},
        "refresh_inventory": {"name": "Refresh inventory"},
        "unlock_connector": {"name": "Unlock connector"},
        "clear_cache": {"name": "Clear authorization cache"},  # authorization (C, D, H)
    },
    "number": {
        "charging_current_limit": {"name": "Charging current limit"},
        "charging_power_limit": {"name": "Charging power limit"},
        "station_current_limit_cap": {"name": "Station current cap"},
        "station_power_limit_cap": {"name": "Station power cap"},
    },
    "switch": {
        "charging": {
            "name": "Charging",
            "state_attributes": {
                "control": {
                    "name": "Turning off",
                    "state": {"pause": "Pauses the session (0 A)", "transaction": "No session to pause"},
                },
                "paused": {"name": "Paused"},
            },
        },
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
        # Authorization (C, D, H)
        "reservation_ended": {
            "name": "Reservation ended",
            "state_attributes": {
                "event_type": {
                    "state": {
                        "used": "Used",
                        "expired": "Expired",
                        "removed": "Removed by the charger",
                        "cancelled": "Cancelled",
                    }
                },
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
        "station_status": {
            "name": "Status",
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
        "soc": {"name": "State of charge"},
        "external_charging_limit": {"name": "External charging limit"},
        # Authorization (C, D, H)
        "local_auth_list": {"name": "Local list version"},
        "reservation": {"name": "Reservation", "state": {"none": "None", "reserved": "Reserved"}},
        # issue 17: certificates, ISO 15118
        "certificate_expiry": {"name": "Certificate expiry"},
        "ev_requested_energy": {"name": "EV requested energy"},
        "ev_departure_time": {"name": "EV departure time"},
        "ev_max_current": {"name": "EV maximum current"},
        "ev_max_power": {"name": "EV maximum power"},
        "ev_state_of_charge": {"name": "EV state of charge"},
    },
}


# ---- station management: firmware (L), monitoring (N), display messages (O) ------------------------------------

SEVERITY_NAMES: dict[str, str] = {
    "danger": "0 Danger",
    "hardware_failure": "1 Hardware failure",
    "system_failure": "2 System failure",
    "critical": "3 Critical",
    "error": "4 Error",
    "alert": "5 Alert",
    "warning": "6 Warning",
    "notice": "7 Notice",
    "informational": "8 Informational",
    "debug": "9 Debug",
}
FIRMWARE_STATUS_NAMES: dict[str, str] = {
    "downloaded": "Downloaded",
    "downloadfailed": "Download failed",
    "downloading": "Downloading",
    "downloadscheduled": "Download scheduled",
    "downloadpaused": "Download paused",
    "idle": "Idle",
    "installationfailed": "Installation failed",
    "installing": "Installing",
    "installed": "Installed",
    "installrebooting": "Rebooting to install",
    "installscheduled": "Installation scheduled",
    "installverificationfailed": "Installation verification failed",
    "invalidsignature": "Invalid signature",
    "signatureverified": "Signature verified",
}
FIXED["sensor"]["firmware_status"] = {"name": "Firmware status", "state": FIRMWARE_STATUS_NAMES}
FIXED["update"] = {"firmware": {"name": "Firmware"}}
FIXED["notify"] = {"display": {"name": "Display"}}
FIXED["select"] = {"monitoring_level": {"name": "Monitoring level", "state": SEVERITY_NAMES}}
FIXED["event"]["problem"] = {
    "name": "Problem",
    "state_attributes": {"event_type": {"state": {"problem": "Problem reported", "cleared": "Problem cleared"}}},
}
FIXED_ICONS["sensor"]["firmware_status"] = "mdi:chip"
FIXED_ICONS["notify"] = {"display": "mdi:message-text-outline"}
FIXED_ICONS["select"] = {"monitoring_level": "mdi:alert-decagram-outline"}
FIXED_ICONS["event"]["problem"] = "mdi:alert-circle-outline"


# ---- the energy manager: charging modes, solar surplus, phase switching, load balancing -------------------------

ENERGY_MANAGER_STATES: dict[str, str] = {
    "manual": "Manual",
    "off": "Off",
    "station_offline": "Station offline",
    "no_vehicle": "No vehicle",
    "charging_fast": "Charging fast",
    "charging_solar": "Charging from solar",
    "charging_min": "Charging at the minimum",
    "waiting_for_surplus": "Waiting for surplus",
    "paused_battery_priority": "Paused: home battery first",
    "limited_by_fuse": "Limited by the main fuse",
    "paused_by_fuse": "Paused by the main fuse",
    "phase_switch_pending": "Phase switch pending",
    "not_configured": "No grid power sensor",
    "sensor_unavailable": "Sensor unavailable: safe limit",
    "plan_on_station": "Plan on the station",
    "plan_live": "Plan sent as live limits",
}
ENERGY_MANAGER_ATTRIBUTES: dict[str, str] = {
    "mode": "Charging mode",
    "target_current": "Target current",
    "allocated_current": "Allocated current",
    "limit": "Limit sent",
    "phases": "Phases",
    "fallback_current": "Safe limit",
    "fallback_on_station": "Safe limit on the station",
    "surplus_power": "Surplus",
    "surplus_share": "Share of the surplus",
    "fuse_headroom": "Fuse headroom per phase",
    "grid_power_headroom": "Grid power headroom",
    "next_change_at": "Next change allowed",
}
FIXED["select"]["charging_mode"] = {
    "name": "Charging mode",
    "state": {
        "off": "Off",
        "fast": "Fast",
        "solar": "Solar only",
        "min_solar": "Minimum + solar",
        "manual": "Manual",
        "smart": "Smart (by departure)",
    },
}
FIXED["select"]["charging_phases"] = {
    "name": "Charging phases",
    "state": {"auto": "Automatic", "1": "1 phase", "3": "3 phases"},
}
FIXED["number"] |= {
    "min_charging_current": {"name": "Minimum charging current"},
    "max_charging_current": {"name": "Maximum charging current"},
    "charging_priority": {"name": "Charging priority"},
}
FIXED["sensor"]["energy_manager"] = {
    "name": "Energy manager",
    "state": ENERGY_MANAGER_STATES,
    "state_attributes": {key: {"name": name} for key, name in ENERGY_MANAGER_ATTRIBUTES.items()},
}
FIXED_ICONS["select"] |= {"charging_mode": "mdi:solar-power-variant", "charging_phases": "mdi:sine-wave"}
FIXED_ICONS["number"] |= {
    "min_charging_current": "mdi:current-ac",
    "max_charging_current": "mdi:current-ac",
    "charging_priority": "mdi:sort-numeric-descending",
}
FIXED_ICONS["sensor"]["energy_manager"] = "mdi:home-lightning-bolt-outline"


# ---- departure planning and session cost ---------------------------------------------------------------------------

PLAN_ATTRIBUTES: dict[str, str] = {
    "departure": "Departure",
    "target_energy": "Energy to add",
    "expected_energy": "Expected energy",
    "expected_cost": "Expected cost",
    "finish": "Finish",
    "complete": "Target met",
    "shortfall": "Shortfall",
    "slots": "Slots",
    "on_station": "On the station",
    "live_limits": "Live limits",
    "readback": "Composite schedule",
    "problem": "Problem",
    "car_power": "Car's charging power",
}
COST_ATTRIBUTES: dict[str, str] = {
    "transaction_id": "Transaction",
    "energy": "Energy",
    "unpriced_energy": "Energy without a price",
    "price": "Price now",
}
FIXED.setdefault("time", {})["departure"] = {"name": "Departure"}
FIXED["number"]["energy_to_add"] = {"name": "Energy to add"}
FIXED["number"]["target_soc"] = {"name": "Target state of charge"}
FIXED["sensor"]["charging_plan"] = {
    "name": "Charging plan",
    "state_attributes": {key: {"name": name} for key, name in PLAN_ATTRIBUTES.items()},
}
FIXED["sensor"]["session_cost"] = {
    "name": "Session cost",
    "state_attributes": {key: {"name": name} for key, name in COST_ATTRIBUTES.items()},
}
FIXED_ICONS.setdefault("time", {})["departure"] = "mdi:car-clock"
FIXED_ICONS["number"]["energy_to_add"] = "mdi:battery-plus-variant"
FIXED_ICONS["number"]["target_soc"] = "mdi:battery-charging-80"
FIXED_ICONS["sensor"] |= {"charging_plan": "mdi:calendar-clock", "session_cost": "mdi:cash"}


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
    for key, values in ENUM_VALUES.items():  # curated variables shown as enum sensors: their states
        states = {state_key(value): NAMES[value] for value in values}
        section["sensor"][key] = {**section["sensor"][key], "state": states}
    return {platform: dict(sorted(section[platform].items())) for platform in sorted(section)}


def icon_section() -> dict[str, dict[str, Any]]:
    """The `entity` section of icons.json: fixed entities, then every curated variable on every variable platform."""
    section: dict[str, dict[str, str]] = {platform: dict(keys) for platform, keys in FIXED_ICONS.items()}
    unknown = sorted(set(CURATED_ICONS) - {variable.translation_key for variable in CURATED.values()})
    if unknown:
        raise SystemExit(f"icons for translation keys that are not curated: {unknown}")
    for platform in VARIABLE_PLATFORMS:
        icons = section.setdefault(platform, {})
        for key, icon in CURATED_ICONS.items():
            icons.setdefault(key, icon)
    return {
        platform: {key: {"default": icon} for key, icon in sorted(section[platform].items())}
        for platform in sorted(section)
    }


def rendered(path: Path, section: dict[str, Any]) -> str:
    """The file at `path` with its `entity` section replaced."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["entity"] = section
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def outputs() -> dict[Path, str]:
    """What each generated file must contain."""
    return {TRANSLATIONS: rendered(TRANSLATIONS, entity_section()), ICONS: rendered(ICONS, icon_section())}


def main() -> None:
    """Rewrite the entity sections of en.json and icons.json in place."""
    for path, text in outputs().items():
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
