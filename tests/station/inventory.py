"""A realistic device model inventory, as a station would report it in NotifyReport (OCPP wire format).

A two-EVSE, three-phase 22 kW AC station with one Type 2 socket per EVSE, the controllers of the Core,
Local Auth List, Smart Charging, Advanced Device Management and Reservation profiles, a vendor fan component with
instances, and a WriteOnly BasicAuthPassword. Names follow the appendix dm_components_vars.csv.

`inventory()` returns the ReportData dicts; `notify_report_parts()` splits them into NotifyReportRequest payloads.
The station simulator and other tests reuse both.
"""

from __future__ import annotations

from typing import Any

MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered,Power.Offered,SoC,"
    "Frequency,Energy.Active.Export.Register,Power.Active.Export"
)
TX_POINTS = "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"
AVAILABILITY = "Available,Occupied,Reserved,Unavailable,Faulted"
PHASES = ("L1", "L2", "L3")


def report_data(
    component: str,
    variable: str,
    value: str | None = None,
    *,
    mutability: str = "ReadOnly",
    data_type: str = "string",
    unit: str | None = None,
    values_list: str | None = None,
    min_limit: float | None = None,
    max_limit: float | None = None,
    evse: int | None = None,
    connector: int | None = None,
    component_instance: str | None = None,
    variable_instance: str | None = None,
    persistent: bool | None = None,
    constant: bool | None = None,
    supports_monitoring: bool = False,
    extra_attributes: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """One ReportDataType in wire format: the Actual attribute, any extra ones, and the characteristics."""
    component_data: dict[str, Any] = {"name": component}
    if component_instance is not None:
        component_data["instance"] = component_instance
    if evse is not None:
        component_data["evse"] = {"id": evse} if connector is None else {"id": evse, "connectorId": connector}
    variable_data: dict[str, Any] = {"name": variable}
    if variable_instance is not None:
        variable_data["instance"] = variable_instance
    actual: dict[str, Any] = {"type": "Actual", "mutability": mutability}
    if value is not None:
        actual["value"] = value
    if persistent is not None:
        actual["persistent"] = persistent
    if constant is not None:
        actual["constant"] = constant
    characteristics: dict[str, Any] = {"dataType": data_type, "supportsMonitoring": supports_monitoring}
    if unit is not None:
        characteristics["unit"] = unit
    if values_list is not None:
        characteristics["valuesList"] = values_list
    if min_limit is not None:
        characteristics["minLimit"] = min_limit
    if max_limit is not None:
        characteristics["maxLimit"] = max_limit
    return {
        "component": component_data,
        "variable": variable_data,
        "variableAttribute": [actual, *extra_attributes],
        "variableCharacteristics": characteristics,
    }


def _boolean(component: str, variable: str, value: bool, **options: Any) -> dict[str, Any]:
    return report_data(component, variable, "true" if value else "false", data_type="boolean", **options)


def _integer(component: str, variable: str, value: int, **options: Any) -> dict[str, Any]:
    return report_data(component, variable, str(value), data_type="integer", **options)


RW: dict[str, Any] = {"mutability": "ReadWrite", "persistent": True}


def _charging_infrastructure() -> list[dict[str, Any]]:
    items = [
        report_data(
            "ChargingStation", "AvailabilityState", "Available", data_type="OptionList", values_list=AVAILABILITY
        ),
        _boolean("ChargingStation", "Available", True),
        _integer("ChargingStation", "SupplyPhases", 3, constant=True),
        report_data("ChargingStation", "Model", "Wallbox 22", constant=True),
        report_data("ChargingStation", "VendorName", "Example Charging", constant=True),
        _boolean("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate", False, **RW),
        _boolean("ChargingStation", "Problem", False, supports_monitoring=True),
        report_data("ChargingStation", "Power", "0", data_type="decimal", unit="W", max_limit=44000),
    ]
    items += [
        report_data("ChargingStation", "ACVoltage", "230.1", data_type="decimal", unit="V", variable_instance=phase)
        for phase in PHASES
    ]
    for evse in (1, 2):
        items += [
            report_data(
                "EVSE", "AvailabilityState", "Available", data_type="OptionList", values_list=AVAILABILITY, evse=evse
            ),
            _boolean("EVSE", "Available", True, evse=evse),
            report_data(
                "EVSE",
                "Power",
                "0",
                data_type="decimal",
                unit="W",
                max_limit=22000,
                evse=evse,
                supports_monitoring=True,
                extra_attributes=({"type": "MaxSet", "value": "22000", "mutability": "ReadWrite"},),
            ),
            _integer("EVSE", "SupplyPhases", 3, evse=evse),
            report_data("EVSE", "EvseId", f"DE*EXA*E000{evse}", evse=evse),
            _boolean("EVSE", "AllowReset", True, evse=evse),
            _boolean("EVSE", "Problem", False, evse=evse),
        ]
        items += [
            report_data("EVSE", "ACCurrent", "0", data_type="decimal", unit="A", evse=evse, variable_instance=phase)
            for phase in PHASES
        ]
        connector: dict[str, Any] = {"evse": evse, "connector": 1}
        items += [
            report_data(
                "Connector",
                "AvailabilityState",
                "Available",
                data_type="OptionList",
                values_list=AVAILABILITY,
                **connector,
            ),
            _boolean("Connector", "Available", True, **connector),
            report_data("Connector", "ConnectorType", "sType2", constant=True, **connector),
            _integer("Connector", "SupplyPhases", 3, **connector),
            report_data("Connector", "ChargeProtocol", "IEC61851", **connector),
            _boolean("Connector", "Problem", False, **connector),
        ]
    items += [
        report_data(
            "Fan",
            "FanSpeed",
            "1200",
            data_type="integer",
            unit="RPM",
            component_instance=fan,
            supports_monitoring=True,
        )
        for fan in ("Fan1", "Fan2")
    ]
    items.append(report_data("TemperatureSensor", "Temperature", "31.5", data_type="decimal", unit="Celsius", evse=1))
    return items


def _controllers() -> list[dict[str, Any]]:
    return [
        # AlignedDataCtrlr
        _boolean("AlignedDataCtrlr", "Enabled", True, **RW),
        _boolean("AlignedDataCtrlr", "Available", True),
        _integer("AlignedDataCtrlr", "Interval", 900, unit="s", min_limit=0, max_limit=86400, **RW),
        report_data(
            "AlignedDataCtrlr",
            "Measurands",
            "Energy.Active.Import.Register",
            data_type="MemberList",
            values_list=MEASURANDS,
            **RW,
        ),
        _boolean("AlignedDataCtrlr", "SendDuringIdle", False, **RW),
        _boolean("AlignedDataCtrlr", "SignReadings", False, **RW),
        _integer("AlignedDataCtrlr", "TxEndedInterval", 0, unit="s", **RW),
        report_data("AlignedDataCtrlr", "TxEndedMeasurands", "", data_type="MemberList", values_list=MEASURANDS, **RW),
        # AuthCacheCtrlr
        _boolean("AuthCacheCtrlr", "Available", True),
        _boolean("AuthCacheCtrlr", "Enabled", True, **RW),
        _integer("AuthCacheCtrlr", "LifeTime", 86400, **RW),
        report_data("AuthCacheCtrlr", "Policy", "LRU", data_type="OptionList", values_list="LRU,LFU,FIFO,CUSTOM", **RW),
        _integer("AuthCacheCtrlr", "Storage", 16384, unit="B"),
        _boolean("AuthCacheCtrlr", "DisablePostAuthorize", False, **RW),
        # AuthCtrlr
        _integer("AuthCtrlr", "AdditionalInfoItemsPerMessage", 4),
        _boolean("AuthCtrlr", "AuthorizeRemoteStart", False, **RW),
        _boolean("AuthCtrlr", "Enabled", True, **RW),
        _boolean("AuthCtrlr", "LocalAuthorizeOffline", True, **RW),
        _boolean("AuthCtrlr", "LocalPreAuthorize", True, **RW),
        report_data("AuthCtrlr", "MasterPassGroupId", "", **RW),
        _boolean("AuthCtrlr", "OfflineTxForUnknownIdEnabled", False, **RW),
        _boolean("AuthCtrlr", "DisableRemoteAuthorization", False, **RW),
        # ClockCtrlr
        report_data("ClockCtrlr", "DateTime", "2025-06-01T12:00:00+00:00", data_type="dateTime"),
        report_data("ClockCtrlr", "NtpServerUri", "pool.ntp.org", variable_instance="1", **RW),
        report_data("ClockCtrlr", "NtpServerUri", "time.example.com", variable_instance="2", **RW),
        report_data("ClockCtrlr", "NtpSource", "DHCP", data_type="OptionList", values_list="DHCP,manual", **RW),
        report_data("ClockCtrlr", "TimeOffset", "+00:00", **RW),
        report_data(
            "ClockCtrlr",
            "TimeSource",
            "NTP,Heartbeat",
            data_type="SequenceList",
            values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter",
            **RW,
        ),
        report_data("ClockCtrlr", "TimeZone", "Europe/Berlin", **RW),
        _integer("ClockCtrlr", "TimeAdjustmentReportingThreshold", 20, unit="s", **RW),
        # DeviceDataCtrlr
        *(
            _integer("DeviceDataCtrlr", "BytesPerMessage", limit, variable_instance=action)
            for action, limit in (("GetReport", 65000), ("GetVariables", 65000), ("SetVariables", 32000))
        ),
        *(
            _integer("DeviceDataCtrlr", "ItemsPerMessage", limit, variable_instance=action)
            for action, limit in (("GetReport", 16), ("GetVariables", 24), ("SetVariables", 12))
        ),
        _integer("DeviceDataCtrlr", "ConfigurationValueSize", 1000),
        _integer("DeviceDataCtrlr", "ReportingValueSize", 2500),
        _integer("DeviceDataCtrlr", "ValueSize", 2500),
        # DisplayMessageCtrlr
        _boolean("DisplayMessageCtrlr", "Available", True),
        _boolean("DisplayMessageCtrlr", "Enabled", True, **RW),
        _integer("DisplayMessageCtrlr", "DisplayMessages", 3),
        _integer("DisplayMessageCtrlr", "PersonalMessageSize", 128),
        report_data(
            "DisplayMessageCtrlr",
            "SupportedFormats",
            "ASCII,UTF8",
            data_type="MemberList",
            values_list="ASCII,HTML,URI,UTF8",
        ),
        report_data(
            "DisplayMessageCtrlr",
            "SupportedPriorities",
            "AlwaysFront,NormalCycle",
            data_type="MemberList",
            values_list="AlwaysFront,InFront,NormalCycle",
        ),
        # LocalAuthListCtrlr
        _boolean("LocalAuthListCtrlr", "Available", True),
        _integer("LocalAuthListCtrlr", "BytesPerMessage", 8000),
        _boolean("LocalAuthListCtrlr", "Enabled", True, **RW),
        _integer("LocalAuthListCtrlr", "Entries", 0),
        _integer("LocalAuthListCtrlr", "ItemsPerMessage", 50),
        _integer("LocalAuthListCtrlr", "Storage", 65536, unit="B"),
        _boolean("LocalAuthListCtrlr", "DisablePostAuthorize", False, **RW),
        # MonitoringCtrlr
        _boolean("MonitoringCtrlr", "Available", True),
        _integer("MonitoringCtrlr", "BytesPerMessage", 4000, variable_instance="ClearVariableMonitoring"),
        _integer("MonitoringCtrlr", "BytesPerMessage", 4000, variable_instance="SetVariableMonitoring"),
        _boolean("MonitoringCtrlr", "Enabled", True, **RW),
        _integer("MonitoringCtrlr", "ItemsPerMessage", 10, variable_instance="ClearVariableMonitoring"),
        _integer("MonitoringCtrlr", "ItemsPerMessage", 10, variable_instance="SetVariableMonitoring"),
        _integer("MonitoringCtrlr", "OfflineQueuingSeverity", 2, **RW),
        report_data(
            "MonitoringCtrlr",
            "MonitoringBase",
            "All",
            data_type="OptionList",
            values_list="All,FactoryDefault,HardWiredOnly",
            **RW,
        ),
        _integer("MonitoringCtrlr", "MonitoringLevel", 9, min_limit=0, max_limit=9, **RW),
        report_data(
            "MonitoringCtrlr",
            "ActiveMonitoringBase",
            "All",
            data_type="OptionList",
            values_list="All,FactoryDefault,HardWiredOnly",
        ),
        _integer("MonitoringCtrlr", "ActiveMonitoringLevel", 9),
        # OCPPCommCtrlr
        report_data("OCPPCommCtrlr", "ActiveNetworkProfile", "1"),
        report_data(
            "OCPPCommCtrlr",
            "FileTransferProtocols",
            "HTTPS,FTPS",
            data_type="MemberList",
            values_list="FTP,FTPS,HTTP,HTTPS,SFTP",
        ),
        _integer("OCPPCommCtrlr", "HeartbeatInterval", 300, unit="s", min_limit=1, max_limit=86400, **RW),
        _integer("OCPPCommCtrlr", "MessageTimeout", 30, unit="s", variable_instance="Default", **RW),
        _integer("OCPPCommCtrlr", "MessageAttemptInterval", 60, variable_instance="TransactionEvent", **RW),
        _integer("OCPPCommCtrlr", "MessageAttempts", 5, variable_instance="TransactionEvent", **RW),
        report_data("OCPPCommCtrlr", "NetworkConfigurationPriority", "1,0", **RW),
        _integer("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 3, **RW),
        _integer("OCPPCommCtrlr", "OfflineThreshold", 600, unit="s", **RW),
        report_data(
            "OCPPCommCtrlr",
            "PublicKeyWithSignedMeterValue",
            "Never",
            data_type="OptionList",
            values_list="Never,OncePerTransaction,EveryMeterValue",
            **RW,
        ),
        _boolean("OCPPCommCtrlr", "QueueAllMessages", False, **RW),
        _integer("OCPPCommCtrlr", "ResetRetries", 2, **RW),
        _integer("OCPPCommCtrlr", "RetryBackOffRandomRange", 10, **RW),
        _integer("OCPPCommCtrlr", "RetryBackOffRepeatTimes", 4, **RW),
        _integer("OCPPCommCtrlr", "RetryBackOffWaitMinimum", 5, **RW),
        _boolean("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", True, **RW),
        _integer("OCPPCommCtrlr", "WebSocketPingInterval", 30, unit="s", **RW),
        _integer(
            "OCPPCommCtrlr",
            "FieldLength",
            36,
            variable_instance="TransactionEvent.transactionId",
        ),
        # ReservationCtrlr
        _boolean("ReservationCtrlr", "Available", True),
        _boolean("ReservationCtrlr", "Enabled", True, **RW),
        _boolean("ReservationCtrlr", "NonEvseSpecific", False),
        # SampledDataCtrlr
        _boolean("SampledDataCtrlr", "Available", True),
        _boolean("SampledDataCtrlr", "Enabled", True, **RW),
        _boolean("SampledDataCtrlr", "SignReadings", False, **RW),
        _integer("SampledDataCtrlr", "TxEndedInterval", 0, unit="s", **RW),
        report_data(
            "SampledDataCtrlr",
            "TxEndedMeasurands",
            "Energy.Active.Import.Register",
            data_type="MemberList",
            values_list=MEASURANDS,
            **RW,
        ),
        report_data(
            "SampledDataCtrlr",
            "TxStartedMeasurands",
            "Energy.Active.Import.Register",
            data_type="MemberList",
            values_list=MEASURANDS,
            **RW,
        ),
        _integer("SampledDataCtrlr", "TxUpdatedInterval", 60, unit="s", min_limit=0, **RW),
        report_data(
            "SampledDataCtrlr",
            "TxUpdatedMeasurands",
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
            data_type="MemberList",
            values_list=MEASURANDS,
            **RW,
        ),
        _boolean("SampledDataCtrlr", "RegisterValuesWithoutPhases", True, **RW),
        # SecurityCtrlr
        _boolean("SecurityCtrlr", "AdditionalRootCertificateCheck", False),
        report_data("SecurityCtrlr", "BasicAuthPassword", mutability="WriteOnly"),
        _integer("SecurityCtrlr", "CertificateEntries", 3),
        _integer("SecurityCtrlr", "CertSigningRepeatTimes", 3, **RW),
        _integer("SecurityCtrlr", "CertSigningWaitMinimum", 60, unit="s", **RW),
        report_data("SecurityCtrlr", "Identity", "CS-0001"),
        _integer("SecurityCtrlr", "MaxCertificateChainSize", 5600),
        report_data("SecurityCtrlr", "OrganizationName", "Example CSO", **RW),
        _integer("SecurityCtrlr", "SecurityProfile", 1),
        # SmartChargingCtrlr
        _boolean("SmartChargingCtrlr", "ACPhaseSwitchingSupported", True),
        _boolean("SmartChargingCtrlr", "Available", True),
        _boolean("SmartChargingCtrlr", "Enabled", True, **RW),
        _integer("SmartChargingCtrlr", "Entries", 0, variable_instance="ChargingProfiles"),
        _boolean("SmartChargingCtrlr", "ExternalControlSignalsEnabled", False, **RW),
        report_data(
            "SmartChargingCtrlr",
            "LimitChangeSignificance",
            "10.0",
            data_type="decimal",
            unit="Percent",
            min_limit=0,
            max_limit=100,
            **RW,
        ),
        _boolean("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules", False, **RW),
        _integer("SmartChargingCtrlr", "PeriodsPerSchedule", 24),
        _boolean("SmartChargingCtrlr", "Phases3to1", True),
        _integer("SmartChargingCtrlr", "ProfileStackLevel", 8),
        report_data("SmartChargingCtrlr", "RateUnit", "A,W", data_type="MemberList", values_list="A,W"),
        # TariffCostCtrlr
        _boolean("TariffCostCtrlr", "Available", False, variable_instance="Tariff"),
        _boolean("TariffCostCtrlr", "Available", False, variable_instance="Cost"),
        report_data("TariffCostCtrlr", "Currency", "EUR", **RW),
        _boolean("TariffCostCtrlr", "Enabled", False, variable_instance="Tariff", **RW),
        _boolean("TariffCostCtrlr", "Enabled", False, variable_instance="Cost", **RW),
        report_data("TariffCostCtrlr", "TariffFallbackMessage", "See the price list at the site", **RW),
        report_data("TariffCostCtrlr", "TotalCostFallbackMessage", "Thank you", **RW),
        # TxCtrlr
        report_data("TxCtrlr", "ChargingTime", "0", data_type="decimal", unit="s"),
        _integer("TxCtrlr", "EVConnectionTimeOut", 120, unit="s", **RW),
        _integer("TxCtrlr", "MaxEnergyOnInvalidId", 0, **RW),
        _boolean("TxCtrlr", "StopTxOnEVSideDisconnect", True, **RW),
        _boolean("TxCtrlr", "StopTxOnInvalidId", True, **RW),
        _boolean("TxCtrlr", "TxBeforeAcceptedEnabled", False, **RW),
        report_data(
            "TxCtrlr", "TxStartPoint", "EVConnected,Authorized", data_type="MemberList", values_list=TX_POINTS, **RW
        ),
        report_data(
            "TxCtrlr", "TxStopPoint", "EVConnected,Authorized", data_type="MemberList", values_list=TX_POINTS, **RW
        ),
        # CustomizationCtrlr and ISO15118Ctrlr
        _boolean("CustomizationCtrlr", "CustomImplementationEnabled", False, variable_instance="com.example", **RW),
        _boolean("ISO15118Ctrlr", "ContractValidationOffline", True, **RW),
        _boolean("ISO15118Ctrlr", "PnCEnabled", False, **RW),
        report_data("ISO15118Ctrlr", "SeccId", "DE*EXA*S0001"),
        _integer("ISO15118Ctrlr", "MaxScheduleEntries", 24),
        _boolean("ISO15118Ctrlr", "RequestMeteringReceipt", False, **RW),
        _boolean("ISO15118Ctrlr", "V2GCertificateInstallationEnabled", False, **RW),
    ]


def inventory() -> list[dict[str, Any]]:
    """The station's full inventory: a list of ReportData dicts in wire format (camelCase)."""
    return [*_charging_infrastructure(), *_controllers()]


def notify_report_parts(
    request_id: int = 1, per_part: int = 20, generated_at: str = "2025-06-01T12:00:00+00:00"
) -> list[dict[str, Any]]:
    """The inventory as NotifyReportRequest payloads of `per_part` items: seqNo from 0, tbc on all but the last."""
    data = inventory()
    chunks = [data[index : index + per_part] for index in range(0, len(data), per_part)]
    return [
        {
            "requestId": request_id,
            "generatedAt": generated_at,
            "seqNo": seq_no,
            "reportData": chunk,
            "tbc": seq_no < len(chunks) - 1,
        }
        for seq_no, chunk in enumerate(chunks)
    ]
