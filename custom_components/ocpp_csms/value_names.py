"""Readable names of the OCPP values that curated variables take: connector types, availability, list members.

A curated variable with a known set of values (`ENUM_VALUES`) is shown as an enum sensor whose states are
translated (`tools/generate_translations.py` writes `NAMES` into translations/en.json). A list variable
(MemberList, SequenceList: transaction start points, measurands, rate units) is shown as readable text, members
named here, and a text entity takes the names back when it is written.
"""

from __future__ import annotations

from collections.abc import Iterable
import re
from typing import Final

from .protocol.v201.enums import Measurand

#: The availability states of a station, EVSE or connector (appendix: AvailabilityState).
AVAILABILITY: Final = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
#: ConnectorEnumType (Part 2) plus the values the appendix adds for ConnectorType.
CONNECTOR_TYPES: Final = (
    "cCCS1",
    "cCCS2",
    "cG105",
    "cTesla",
    "cType1",
    "cType2",
    "s309-1P-16A",
    "s309-1P-32A",
    "s309-3P-16A",
    "s309-3P-32A",
    "sBS1361",
    "sCEE-7-7",
    "sType2",
    "sType3",
    "Other1PhMax16A",
    "Other1PhOver16A",
    "Other3Ph",
    "Pan",
    "wInductive",
    "wResonant",
    "cGBT",
    "cChaoJi",
    "OppCharge",
    "Undetermined",
    "Unknown",
)

#: Curated translation key → the values it can take (its enum sensor's states, in this order).
ENUM_VALUES: Final[dict[str, tuple[str, ...]]] = {
    "station_availability_state": AVAILABILITY,
    "evse_availability_state": AVAILABILITY,
    "connector_availability_state": AVAILABILITY,
    "connector_type": CONNECTOR_TYPES,
}

_MEASURAND_NAMES: Final = {
    Measurand.CURRENT_EXPORT: "Current exported",
    Measurand.CURRENT_IMPORT: "Current",
    Measurand.CURRENT_OFFERED: "Current offered",
    Measurand.ENERGY_ACTIVE_EXPORT_REGISTER: "Energy exported",
    Measurand.ENERGY_ACTIVE_IMPORT_REGISTER: "Energy",
    Measurand.ENERGY_REACTIVE_EXPORT_REGISTER: "Reactive energy exported",
    Measurand.ENERGY_REACTIVE_IMPORT_REGISTER: "Reactive energy",
    Measurand.ENERGY_ACTIVE_EXPORT_INTERVAL: "Energy exported in the interval",
    Measurand.ENERGY_ACTIVE_IMPORT_INTERVAL: "Energy in the interval",
    Measurand.ENERGY_ACTIVE_NET: "Net energy",
    Measurand.ENERGY_REACTIVE_EXPORT_INTERVAL: "Reactive energy exported in the interval",
    Measurand.ENERGY_REACTIVE_IMPORT_INTERVAL: "Reactive energy in the interval",
    Measurand.ENERGY_REACTIVE_NET: "Net reactive energy",
    Measurand.ENERGY_APPARENT_NET: "Net apparent energy",
    Measurand.ENERGY_APPARENT_IMPORT: "Apparent energy",
    Measurand.ENERGY_APPARENT_EXPORT: "Apparent energy exported",
    Measurand.FREQUENCY: "Frequency",
    Measurand.POWER_ACTIVE_EXPORT: "Power exported",
    Measurand.POWER_ACTIVE_IMPORT: "Power",
    Measurand.POWER_FACTOR: "Power factor",
    Measurand.POWER_OFFERED: "Power offered",
    Measurand.POWER_REACTIVE_EXPORT: "Reactive power exported",
    Measurand.POWER_REACTIVE_IMPORT: "Reactive power",
    Measurand.SOC: "State of charge",
    Measurand.VOLTAGE: "Voltage",
}

#: OCPP value → English name.
NAMES: Final[dict[str, str]] = {
    "Available": "Available",
    "Occupied": "Occupied",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
    "cCCS1": "CCS1 (Combo 1) cable",
    "cCCS2": "CCS2 (Combo 2) cable",
    "cG105": "CHAdeMO cable",
    "cTesla": "Tesla cable",
    "cType1": "Type 1 cable",
    "cType2": "Type 2 cable",
    "s309-1P-16A": "IEC 60309 socket, 1 phase 16 A",
    "s309-1P-32A": "IEC 60309 socket, 1 phase 32 A",
    "s309-3P-16A": "IEC 60309 socket, 3 phases 16 A",
    "s309-3P-32A": "IEC 60309 socket, 3 phases 32 A",
    "sBS1361": "BS 1361 socket",
    "sCEE-7-7": "Schuko socket (CEE 7/7)",
    "sType2": "Type 2 socket",
    "sType3": "Type 3 socket",
    "Other1PhMax16A": "Other, 1 phase up to 16 A",
    "Other1PhOver16A": "Other, 1 phase over 16 A",
    "Other3Ph": "Other, 3 phases",
    "Pan": "Pantograph",
    "wInductive": "Wireless, inductive",
    "wResonant": "Wireless, resonant",
    "cGBT": "GB/T cable",
    "cChaoJi": "ChaoJi cable",
    "OppCharge": "OppCharge pantograph",
    "Undetermined": "Undetermined",
    "Unknown": "Unknown",
    # Transaction start and stop points (E01, E06)
    "ParkingBayOccupancy": "Parking bay occupied",
    "EVConnected": "EV connected",
    "Authorized": "Authorized",
    "DataSigned": "Data signed",
    "PowerPathClosed": "Power path closed",
    "EnergyTransfer": "Energy transfer",
    # Charging rate units
    "A": "Amperes",
    "W": "Watts",
    **{measurand.value: name for measurand, name in _MEASURAND_NAMES.items()},
}
_VALUES_BY_NAME: Final = {name.casefold(): value for value, name in NAMES.items()} | {
    value.casefold(): value for value in NAMES
}
_NOT_A_KEY: Final = re.compile(r"[^a-z0-9]+")


def state_key(value: str) -> str:
    """The state (and its translation key) of an OCPP value: `s309-1P-16A` → `s309_1p_16a`."""
    return _NOT_A_KEY.sub("_", value.casefold()).strip("_")


def enum_states(translation_key: str | None) -> list[str] | None:
    """The states of a curated variable shown as an enum sensor; None for the others."""
    values = ENUM_VALUES.get(translation_key or "")
    return None if values is None else [state_key(value) for value in values]


def readable_list(members: Iterable[str]) -> str:
    """A list variable's members by name: `EVConnected,PowerPathClosed` → `EV connected, Power path closed`."""
    return ", ".join(NAMES.get(member, member) for member in members)


def list_members(text: str) -> tuple[str, ...]:
    """What a user wrote into a list variable's text, as OCPP values (names or values, any case, `,` between)."""
    members = (member.strip() for member in text.split(","))
    return tuple(_VALUES_BY_NAME.get(member.casefold(), member) for member in members if member)
