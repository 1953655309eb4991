"""Command line of the station simulator: `scripts/simulate` or `python -m tools.simulator`.

Runs N simulated OCPP 2.0.1 charging stations in one process against a CSMS. Every argument is checked before
anything connects (argparse error, exit code 2). Station ids are sim-001, sim-002, ... from the first range no
other run on this machine holds (`ids.py`), unless given explicitly. When the CSMS refuses a station's cards, how
to allow them is printed once per station (`hints.py`). Ctrl-C (SIGINT) or SIGTERM stops the stations cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import json
import logging
import math
from pathlib import Path
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

from .device_model import PASSWORD_CHARACTERS
from .fleet import Fleet, station_ids
from .hints import CardHints
from .ids import IdClaims, claims_dir, id_problem
from .station import SCENARIOS, SimStation, StationConfig

PROG = "scripts/simulate"
DEFAULT_PREFIX = "sim-"
#: SecurityCtrlr.BasicAuthPassword: passwordString of 16 to 40 characters (A00.FR.205).
PASSWORD_MIN_LENGTH = 16
PASSWORD_MAX_LENGTH = 40
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_LOGGER = logging.getLogger("tools.simulator")

EPILOG = """\
station ids:
  Without --id-prefix, --first-id or --credentials, the stations are sim-001, sim-002, ... numbered from the
  first range no other run on this machine uses. Each run claims its ids with lock files in
    {claims}
  while it runs, so a second run started meanwhile gets the next free ids instead of taking over the first
  run's stations (a central system keeps only the newest connection of a station id). A run on its own always
  gets sim-001...: the same stations, cards and approvals as last time. Ids you give (with --id-prefix or
  --first-id, or in a --credentials file) are used exactly as given, with a warning when another run uses
  them too. Runs on other machines do not see these claims: give each machine its own --id-prefix.

cards:
  The drivers of each station present three RFID cards derived from its id. When the central system refuses
  them, the simulator prints once per station the cards and how to allow them in Home Assistant.

examples:
  scripts/simulate --url ws://homeassistant.local:9201 --password my-charger-password-1 --scenario charge
  scripts/simulate --stations 5 --id-prefix garage- --password my-charger-password-1 --duration 600
  scripts/simulate --url wss://homeassistant.local:9443 --profile 3 --ca-file ca.crt \\
      --cert-file station.crt --key-file station.key
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The notes and examples after the options keep their line breaks."""


def _at_least[T: (int, float)](kind: Callable[[str], T], minimum: T, *, strictly: bool = False) -> Callable[[str], T]:
    """An argparse type: a finite number >= `minimum` (> with `strictly`)."""

    def parse(text: str) -> T:
        try:
            value = kind(text)
        except ValueError:
            number = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {number}") from None
        if not math.isfinite(value) or value < minimum or (strictly and value == minimum):
            relation = "more than" if strictly else "at least"
            raise argparse.ArgumentTypeError(f"must be {relation} {minimum:g}, not {text}")
        return value

    return parse


def _password(text: str) -> str:
    """An argparse type: a BasicAuthPassword (never repeated in messages)."""
    problem = password_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def password_problem(password: str) -> str | None:
    """Why `password` is no BasicAuthPassword (None: it is one); the message does not repeat the password."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return (
            f"the password has {len(password)} characters; security profiles 1 and 2 need "
            f"{PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} (OCPP 2.0.1 A00.FR.205, SecurityCtrlr.BasicAuthPassword)"
        )
    if any(c not in PASSWORD_CHARACTERS for c in password):
        return "the password may only contain letters, digits and *-_=:+|@. (OCPP 2.0.1 passwordString)"
    return None


def _existing_file(text: str) -> Path:
    """An argparse type: a file that exists."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no file {text}")
    return path


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Simulated OCPP 2.0.1 charging stations (the `ocpp` package's ChargePoint) for a central\n"
        "system, e.g. Home Assistant's OCPP Charging Station Management (`scripts/demo`). Ctrl-C stops them.",
        epilog=EPILOG.format(claims=claims_dir()),
        formatter_class=_HelpFormatter,
    )
    seconds = _at_least(float, 0.0)
    positive_seconds = _at_least(float, 0.0, strictly=True)
    stations = parser.add_argument_group("stations")
    stations.add_argument(
        "--url", default="ws://127.0.0.1:9201", help="CSMS URL; the station id is appended (default: %(default)s)"
    )
    stations.add_argument("--stations", type=_at_least(int, 1), metavar="N", help="how many stations (default: 1)")
    stations.add_argument(
        "--id-prefix",
        metavar="PREFIX",
        help=f"station ids are PREFIX001, PREFIX002, ... (default: {DEFAULT_PREFIX}, numbered from the first "
        "free range, see 'station ids' below)",
    )
    stations.add_argument(
        "--first-id",
        "--first",
        type=_at_least(int, 0),
        metavar="N",
        help="number of the first station, used as given (default: 1, or the first number of a range no other "
        "run uses when neither --id-prefix nor --first-id is given)",
    )
    stations.add_argument(
        "--evses",
        type=_at_least(int, 1),
        default=1,
        metavar="N",
        help="EVSEs per station, one connector each (default: %(default)s)",
    )
    stations.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help='JSON file of stations and their passwords, [{"id": ..., "password": ...}] or {"stations": [...]} '
        "(e.g. the demo's demo.json): runs exactly those stations, instead of --stations, --id-prefix, "
        "--first-id and --password (default: none)",
    )
    security = parser.add_argument_group("security")
    security.add_argument(
        "--password",
        type=_password,
        help="HTTP Basic password (username = station id) of every station, 16 to 40 characters; needed with "
        "profiles 1 and 2 unless --credentials gives them (default: none)",
    )
    security.add_argument(
        "--profile", type=int, choices=(1, 2, 3), default=1, help="security profile (default: %(default)s)"
    )
    security.add_argument(
        "--ca-file",
        type=_existing_file,
        metavar="FILE",
        help="CA that signed the CSMS's certificate, wss:// only (default: the system's trusted CAs)",
    )
    security.add_argument(
        "--cert-file", type=_existing_file, metavar="FILE", help="station certificate, profile 3 only (default: none)"
    )
    security.add_argument(
        "--key-file", type=_existing_file, metavar="FILE", help="station private key, profile 3 only (default: none)"
    )
    behaviour = parser.add_argument_group("behaviour (times in seconds)")
    behaviour.add_argument(
        "--scenario", choices=SCENARIOS, default="idle", help="idle, or charge now and then (default: %(default)s)"
    )
    behaviour.add_argument(
        "--meter-interval",
        type=seconds,
        metavar="S",
        default=10.0,
        help="between meter values; 0: none (default: %(default)s)",
    )
    behaviour.add_argument(
        "--charge-time",
        type=positive_seconds,
        metavar="S",
        default=1800.0,
        help="charge: session length (default: %(default)s)",
    )
    behaviour.add_argument(
        "--idle-time",
        type=seconds,
        metavar="S",
        default=60.0,
        help="charge: pause between sessions (default: %(default)s)",
    )
    behaviour.add_argument(
        "--plug-delay",
        type=seconds,
        metavar="S",
        default=2.0,
        help="plug-in to authorization, stop to unplug (default: %(default)s)",
    )
    behaviour.add_argument(
        "--reboot-delay", type=seconds, metavar="S", default=2.0, help="how long a reboot takes (default: %(default)s)"
    )
    behaviour.add_argument(
        "--backoff-min", type=seconds, metavar="S", default=5.0, help="RetryBackOffWaitMinimum (default: %(default)s)"
    )
    behaviour.add_argument(
        "--backoff-range",
        type=seconds,
        metavar="S",
        default=10.0,
        help="RetryBackOffRandomRange (default: %(default)s)",
    )
    behaviour.add_argument(
        "--start-spread",
        type=seconds,
        metavar="S",
        default=0.0,
        help="spread the first connections over (default: %(default)s)",
    )
    behaviour.add_argument(
        "--boot-on-reconnect",
        action="store_true",
        help="BootNotification on every reconnection (default: only after a (re)boot)",
    )
    behaviour.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="COMPONENT.VARIABLE[:INSTANCE]=VALUE",
        help="device model value to start with, e.g. TxCtrlr.StopTxOnInvalidId=false; repeatable (default: none)",
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--duration",
        type=seconds,
        metavar="S",
        default=0.0,
        help="stop after this long; 0: never (default: %(default)s)",
    )
    run.add_argument(
        "--stats-interval",
        type=positive_seconds,
        metavar="S",
        default=60.0,
        help="log a summary this often (default: %(default)s)",
    )
    run.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        metavar="LEVEL",
        default="INFO",
        help="DEBUG, INFO, WARNING or ERROR; DEBUG shows every OCPP message (default: %(default)s)",
    )
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read and check the command line; any problem exits with an argparse error (code 2) at once."""
    parser = build_parser()
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme not in ("ws", "wss"):
        parser.error("--url must start with ws:// or wss://")
    try:
        url_ok = bool(url.hostname) and (url.port is None or url.port > 0)
    except ValueError:
        url_ok = False
    if not url_ok:
        parser.error(f"--url {args.url}: expected ws://HOST:PORT or wss://HOST:PORT")
    if args.profile >= 2 and url.scheme != "wss":
        parser.error(f"security profile {args.profile} needs a wss:// URL")
    if args.ca_file is not None and url.scheme != "wss":
        parser.error("--ca-file is for wss:// URLs (security profiles 2 and 3)")
    if args.profile == 3 and not (args.cert_file and args.key_file):
        parser.error("security profile 3 needs --cert-file and --key-file")
    if args.profile != 3 and (args.cert_file or args.key_file):
        parser.error("--cert-file and --key-file are for security profile 3 (--profile 3)")
    if args.backoff_min + args.backoff_range == 0:
        parser.error("--backoff-min and --backoff-range are both 0: the stations would reconnect in a tight loop")
    _read_stations(parser, args)
    args.variables = {}
    for item in args.set:
        name, equals, value = item.partition("=")
        if not equals or "." not in name:
            parser.error(f"--set {item}: expected COMPONENT.VARIABLE[:INSTANCE]=VALUE")
        args.variables[name] = value
    if args.variables:
        try:  # the values are checked against the device model of a station like the ones that will run
            SimStation(StationConfig(station_id="check", evses=args.evses, variables=args.variables))
        except ValueError as err:
            parser.error(f"--set: {err}")
    return args


def _read_stations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Which stations run: `args.explicit_ids` (None: default numbering) and `args.station_passwords`."""
    args.station_passwords = None
    if args.credentials is not None:
        given = [
            option
            for option, value in (
                ("--stations", args.stations),
                ("--id-prefix", args.id_prefix),
                ("--first-id", args.first_id),
                ("--password", args.password),
            )
            if value is not None
        ]
        if given:
            parser.error(f"--credentials lists the stations and their passwords; leave out {', '.join(given)}")
        try:
            args.station_passwords = read_credentials(args.credentials)
        except (OSError, ValueError, KeyError, TypeError) as err:
            parser.error(f"cannot read --credentials {args.credentials}: {err}")
        for station_id, password in args.station_passwords.items():
            if args.profile in (1, 2) and (problem := password_problem(password)) is not None:
                parser.error(f"--credentials {args.credentials}, station {station_id}: {problem}")
        args.explicit_ids = list(args.station_passwords)
    else:
        if args.profile in (1, 2) and args.password is None:
            parser.error(f"security profile {args.profile} needs --password (or --credentials)")
        args.stations = args.stations or 1
        if args.id_prefix is None and args.first_id is None:
            args.explicit_ids = None
        else:
            args.explicit_ids = station_ids(args.stations, _prefix(args), args.first_id or 1)
    # The longest id of the default numbering is about as long as the first ones.
    for station_id in args.explicit_ids or station_ids(args.stations, DEFAULT_PREFIX):
        if (problem := id_problem(station_id)) is not None:
            parser.error(problem)


def _prefix(args: argparse.Namespace) -> str:
    return DEFAULT_PREFIX if args.id_prefix is None else str(args.id_prefix)


def read_credentials(path: Path) -> dict[str, str]:
    """Station id -> password from a JSON file (a list of {"id", "password"}, or an object with "stations")."""
    data = json.loads(path.read_text(encoding="utf-8"))
    stations = data["stations"] if isinstance(data, dict) else data
    credentials = {str(item["id"]): str(item["password"]) for item in stations}
    if not credentials:
        raise ValueError("no stations listed")
    return credentials


def claim_ids(args: argparse.Namespace, claims: IdClaims) -> list[str]:
    """The ids this run uses, claimed so that other runs with the default numbering stay clear of them."""
    if args.explicit_ids is not None:
        try:
            busy = claims.claim_given(args.explicit_ids)
        except OSError as err:
            _LOGGER.warning(
                "cannot claim the station ids in %s (%s); other runs may use them too", claims.directory, err
            )
            return list(args.explicit_ids)
        for station_id, holder in busy.items():
            _LOGGER.warning(
                "station id %s is in use by another %s run (%s): the central system keeps only the newest "
                "connection of an id, so both runs keep replacing each other's connection",
                station_id,
                PROG,
                holder,
            )
        return list(args.explicit_ids)
    try:
        first = claims.claim_free_range(args.stations, DEFAULT_PREFIX)
    except OSError as err:
        _LOGGER.warning(
            "cannot claim station ids in %s (%s): using %s... unclaimed", claims.directory, err, DEFAULT_PREFIX
        )
        return station_ids(args.stations, DEFAULT_PREFIX)
    ids = station_ids(args.stations, DEFAULT_PREFIX, first)
    if first > 1:
        _LOGGER.info("other %s runs use station ids before %s: this run is %s", PROG, ids[0], _span(ids))
    return ids


def _span(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{ids[0]} .. {ids[-1]}"


def configs(args: argparse.Namespace, ids: list[str]) -> list[StationConfig]:
    """One StationConfig per station."""
    passwords: dict[str, str] = args.station_passwords or {}
    return [
        StationConfig(
            station_id=station_id,
            url=args.url,
            password=passwords.get(station_id, args.password),
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
        for station_id in ids
    ]


async def run(args: argparse.Namespace, ids: list[str]) -> int:
    """Run the fleet until the duration elapses or a signal arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    fleet = Fleet(configs(args, ids))  # parse_args checked the --set values on a station like these
    hints = CardHints()
    for station in fleet.stations:
        station.on_card_refused = hints
    _LOGGER.info("%d station(s) %s -> %s, scenario %s", len(fleet.stations), _span(ids), args.url, args.scenario)
    await fleet.run(args.duration, stop, args.stats_interval)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    for stream in (sys.stdout, sys.stderr):  # the hints' arrows, whatever the terminal's encoding
        reconfigure: Any = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    level = getattr(logging, args.log_level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The `ocpp` package logs every message at INFO and every CALLERROR at WARNING: only with DEBUG.
    logging.getLogger("tools.simulator.ocpp").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.ERROR)
    logging.getLogger("websockets").setLevel(max(level, logging.WARNING))
    logging.getLogger("tools.simulator").setLevel(level)
    claims = IdClaims(claims_dir())
    try:
        return asyncio.run(run(args, claim_ids(args, claims)))
    finally:
        claims.release()


if __name__ == "__main__":
    sys.exit(main())
