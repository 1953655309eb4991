"""Command line of the station simulator: `scripts/simulate` or `python -m tools.simulator`.

Runs N simulated OCPP 2.0.1 charging stations (ids sim-001, sim-002, ...) in one process against a CSMS.
Ctrl-C (SIGINT) or SIGTERM stops them cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path
import signal
import sys

from .fleet import Fleet, station_ids
from .station import SCENARIOS, StationConfig


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/simulate",
        description="Simulated OCPP 2.0.1 charging stations (the `ocpp` package's ChargePoint) for a CSMS.",
    )
    parser.add_argument("--url", default="ws://127.0.0.1:9201", help="CSMS URL; the station id is appended")
    parser.add_argument("--stations", type=int, default=1, help="how many stations (default 1)")
    parser.add_argument("--id-prefix", default="sim-", help="station ids are PREFIX001, PREFIX002, ...")
    parser.add_argument("--first", type=int, default=1, help="number of the first station (default 1)")
    parser.add_argument("--evses", type=int, default=1, help="EVSEs per station, one connector each (default 1)")
    parser.add_argument("--password", help="HTTP Basic password (username = station id), profiles 1 and 2")
    parser.add_argument(
        "--credentials",
        type=Path,
        help='JSON file of stations and their passwords, [{"id": ..., "password": ...}] or {"stations": [...]} '
        "(e.g. the demo's demo.json): runs exactly those stations",
    )
    parser.add_argument("--profile", type=int, choices=(1, 2, 3), default=1, help="security profile (default 1)")
    parser.add_argument("--ca-file", type=Path, help="CA that signed the CSMS's certificate (profiles 2, 3)")
    parser.add_argument("--cert-file", type=Path, help="station certificate (profile 3)")
    parser.add_argument("--key-file", type=Path, help="station private key (profile 3)")
    parser.add_argument("--meter-interval", type=float, default=10.0, help="seconds between meter values (10)")
    parser.add_argument("--scenario", choices=SCENARIOS, default="idle", help="idle (default) or charge")
    parser.add_argument("--charge-time", type=float, default=1800.0, help="charge scenario: session length, s")
    parser.add_argument("--idle-time", type=float, default=60.0, help="charge scenario: pause between sessions, s")
    parser.add_argument("--plug-delay", type=float, default=2.0, help="plug-in to authorization, stop to unplug, s")
    parser.add_argument("--reboot-delay", type=float, default=2.0, help="how long a reboot takes, s")
    parser.add_argument("--backoff-min", type=float, default=5.0, help="RetryBackOffWaitMinimum, s (5)")
    parser.add_argument("--backoff-range", type=float, default=10.0, help="RetryBackOffRandomRange, s (10)")
    parser.add_argument("--start-spread", type=float, default=0.0, help="spread the first connections over s")
    parser.add_argument("--boot-on-reconnect", action="store_true", help="BootNotification on every reconnection")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="COMPONENT.VARIABLE[:INSTANCE]=VALUE",
        help="device model value to start with, e.g. TxCtrlr.StopTxOnInvalidId=false (repeatable)",
    )
    parser.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0: never)")
    parser.add_argument("--stats-interval", type=float, default=60.0, help="log a summary every s (60)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG shows every OCPP message (default INFO)")
    args = parser.parse_args(argv)
    if not args.url.startswith(("ws://", "wss://")):
        parser.error("--url must start with ws:// or wss://")
    if args.profile >= 2 and not args.url.startswith("wss://"):
        parser.error(f"security profile {args.profile} needs a wss:// URL")
    if args.profile == 3 and not (args.cert_file and args.key_file):
        parser.error("security profile 3 needs --cert-file and --key-file")
    if args.credentials is not None:
        try:
            args.station_passwords = read_credentials(args.credentials)
        except (OSError, ValueError, KeyError, TypeError) as err:
            parser.error(f"cannot read --credentials {args.credentials}: {err}")
    else:
        args.station_passwords = None
        if args.profile in (1, 2) and args.password is None:
            parser.error(f"security profile {args.profile} needs --password (or --credentials)")
    if args.stations < 1 or args.evses < 1:
        parser.error("--stations and --evses must be at least 1")
    args.variables = {}
    for item in args.set:
        name, equals, value = item.partition("=")
        if not equals or "." not in name:
            parser.error(f"--set {item}: expected COMPONENT.VARIABLE[:INSTANCE]=VALUE")
        args.variables[name] = value
    return args


def read_credentials(path: Path) -> dict[str, str]:
    """Station id -> password from a JSON file (a list of {"id", "password"}, or an object with "stations")."""
    data = json.loads(path.read_text(encoding="utf-8"))
    stations = data["stations"] if isinstance(data, dict) else data
    credentials = {str(item["id"]): str(item["password"]) for item in stations}
    if not credentials:
        raise ValueError("no stations listed")
    return credentials


def configs(args: argparse.Namespace) -> list[StationConfig]:
    """One StationConfig per station."""
    passwords: dict[str, str | None] = (
        dict(args.station_passwords)
        if args.station_passwords is not None
        else dict.fromkeys(station_ids(args.stations, args.id_prefix, args.first), args.password)
    )
    return [
        StationConfig(
            station_id=station_id,
            url=args.url,
            password=password,
            security_profile=args.profile,
            ca_file=args.ca_file,
            cert_file=args.cert_file,
            key_file=args.key_file,
            evses=args.evses,
            meter_interval=args.meter_interval,
            scenario=args.scenario,
            charge_time=args.charge_time,
            idle_time=args.idle_time,
            plug_delay=args.plug_delay,
            reboot_delay=args.reboot_delay,
            backoff_min=args.backoff_min,
            backoff_range=args.backoff_range,
            start_spread=args.start_spread,
            boot_on_reconnect=args.boot_on_reconnect,
            variables=args.variables,
        )
        for station_id, password in passwords.items()
    ]


async def run(args: argparse.Namespace) -> int:
    """Run the fleet until the duration elapses or a signal arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        fleet = Fleet(configs(args))
    except ValueError as err:
        print(f"scripts/simulate: --set: {err}", file=sys.stderr)
        return 2
    logging.getLogger("tools.simulator").info(
        "%d station(s) (%s...) -> %s, scenario %s",
        len(fleet.stations),
        fleet.stations[0].station_id,
        args.url,
        args.scenario,
    )
    await fleet.run(args.duration, stop, args.stats_interval)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    level = getattr(logging, str(args.log_level).upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The `ocpp` package logs every message at INFO and every CALLERROR at WARNING: only with DEBUG.
    logging.getLogger("tools.simulator.ocpp").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.ERROR)
    logging.getLogger("websockets").setLevel(max(level, logging.WARNING))
    for station_logger in ("tools.simulator",):
        logging.getLogger(station_logger).setLevel(level)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
