"""Diagnostics of the config entry and of a station's device; secrets redacted."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .const import CONF_CA_FILE, CONF_CERT_FILE, CONF_KEY_FILE, DOMAIN, EVSE_SEPARATOR
from .csms.station import Station
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData

#: Secrets, and what identifies a person or a device beyond the station's id.
TO_REDACT = {
    "password_hash",
    "password",
    CONF_KEY_FILE,
    CONF_CERT_FILE,
    CONF_CA_FILE,
    "token",
    "certificate",
    "serial_number",
    "certificate_cn",
    "remote_address",
    "id_token",
    "detail",  # a schema violation's detail may quote the value (an ID token, say)
    # station management: a firmware URL may carry credentials (ftp://user:password@host/...)
    "url",
    "signing_certificate",
    "signature",
    # ID tokens are personal data: their groups, labels and messages too
    "group_id",
    "label",
    "personal_message",
}


def _station_diagnostics(data: OcppCsmsRuntimeData, station_id: str) -> dict[str, Any]:
    record = data.registry.get(station_id)
    station: Station | None = data.central.stations.get(station_id)
    found: dict[str, Any] = {
        "trusted": record is not None,
        "record": record.as_dict() if record else None,
    }
    if station is not None:
        session = station.session
        found |= {
            "connected": station.connected,
            "registration": station.registration.value,
            "credentials": asdict(station.credentials) if station.credentials else None,
            "boot": asdict(station.boot) if station.boot else None,
            "connector_status": {
                f"{evse}/{connector}": status for (evse, connector), status in station.connector_status.items()
            },
            "connected_since": station.connected_since,
            "last_seen": station.last_seen,
            "lenient": session.lenient,
            "schema_violations": session.violation_count,
            "last_violations": [asdict(violation) for violation in session.violations],
        }
    runtime = data.runtimes.get(station_id)
    if runtime is not None:
        found["inventory"] = {
            "variables": len(runtime.device_model),
            "firmware": runtime.inventory_firmware,
            "report_pending": runtime.assembler.request_id is not None,
            "missing_report_parts": runtime.assembler.missing_seq_nos,
        }
        found["evses"] = {
            evse_id: {
                "transaction_id": (evse := runtime.transactions.evse(evse_id)).transaction_id,
                "charging_state": evse.charging_state,
                "lifetime_energy_wh": evse.lifetime_energy_wh,
                "energy_manager": _energy_manager(data, station_id, evse_id),
            }
            for evse_id in sorted(runtime.known_evses)
        }
        found["transaction_gaps"] = runtime.transactions.gaps
        found["reused_seq_nos"] = runtime.transactions.reused_seq_nos
        found["workarounds"] = dict(sorted(runtime.workarounds.items()))
        found["charging_profiles"] = runtime.charging_profiles
        found["monitors"] = [monitor.to_dict() for monitor in runtime.monitors.all()]
    # station management: firmware (L), logs (N01), display (O)
    display = data.display.capabilities(station_id)
    found["management"] = {
        **data.firmware.diagnostics(station_id),
        "log_status": data.logs.last_status.get(station_id),
        "display": {
            "available": display.available,
            "formats": [item.value for item in display.formats],
            "priorities": [item.value for item in display.priorities],
            "max_messages": display.max_messages,
        },
        "monitoring_level": data.monitoring.level(station_id),
    }
    if (local_list := data.local_lists.state(station_id)) is not None:
        found["local_auth_list"] = {
            "version": local_list.version,
            "status": local_list.status.value,
            "last_sync": local_list.synced_at,
            "entries": len(local_list.entries),
        }
    found["reservations"] = [reservation.to_dict() for reservation in data.reservations.book.of_station(station_id)]
    found["certificates"] = data.certificates.diagnostics(station_id)  # public data only: no key is held
    return async_redact_data(found, TO_REDACT)


def _energy_manager(data: OcppCsmsRuntimeData, station_id: str, evse_id: int) -> dict[str, Any]:
    """The EVSE's charging mode, what the energy manager does with it, and the numbers behind its last decision.

    The energy manager sensor shows these too, but the essential entity detail leaves it out.
    """
    decision = data.energy.decision(station_id, evse_id)
    return {
        "mode": data.energy.mode(station_id, evse_id).value,
        "state": data.energy.state(station_id, evse_id).value,
        "decision": dict(decision.attributes) if decision is not None else None,
    }


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> dict[str, Any]:
    """The central system: settings, listeners, every station."""
    data = entry.runtime_data
    now = dt_util.utcnow()
    station_ids = sorted({record.station_id for record in data.registry} | set(data.central.stations))
    return {
        "data": dict(entry.data),
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "listeners": [{"port": listener.port, "tls": listener.tls} for listener in data.listeners],
        "id_tokens": dict(Counter(token.effective_status(now).value for token in data.authorization.tokens)),
        "stations": {station_id: _station_diagnostics(data, station_id) for station_id in station_ids},
    }


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: OcppCsmsConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """One station (or the station of an EVSE)."""
    station_id = next(ident.split(EVSE_SEPARATOR)[0] for domain, ident in device.identifiers if domain == DOMAIN)
    return _station_diagnostics(entry.runtime_data, station_id)
