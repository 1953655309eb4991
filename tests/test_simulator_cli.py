"""`scripts/simulate` (python -m tools.simulator) as a user runs it: real processes, real sockets, real CSMS.

The command line checks every argument before anything connects, prints once per station how to allow cards the
central system refuses, and keeps two runs with the default numbering off each other's station ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import os
from pathlib import Path
import re
import signal
import sys
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.ocpp_csms.const import CONF_UNKNOWN_STATIONS, CONF_UNKNOWN_TOKENS
from tools.simulator.__main__ import build_parser
from tools.simulator.station import station_tokens

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, ws_url

ROOT = Path(__file__).parent.parent
#: Everything quick: sessions start at once and retry often, reconnections are fast.
FAST = ["--plug-delay", "0.05", "--idle-time", "0.2", "--backoff-min", "0.2", "--backoff-range", "0.2"]


class Simulator:
    """One `python -m tools.simulator` process; its output (stdout and stderr, in order) is collected as lines."""

    def __init__(self, *args: str, cache: Path) -> None:
        """Not started yet; `cache` is its OCPP_CSMS_CACHE, where runs claim their station ids."""
        self.args = args
        self.cache = cache
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the process and the reader of its output."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.simulator",
            *self.args,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "OCPP_CSMS_CACHE": str(self.cache), "PYTHONUNBUFFERED": "1"},
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode().rstrip("\n"))

    @property
    def output(self) -> str:
        """Everything printed so far."""
        return "\n".join(self.lines)

    async def wait_for(self, pattern: str, count: int = 1, timeout: float = 20.0) -> None:
        """Wait until `count` lines of the output match `pattern` (AssertionError with the output if they don't)."""

        def matches() -> int:
            return sum(1 for line in self.lines if re.search(pattern, line))

        try:
            async with asyncio.timeout(timeout):
                while matches() < count:
                    assert self._reader is not None
                    assert not self._reader.done(), f"the simulator ended without {pattern!r}:\n{self.output}"
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"not {count} x {pattern!r} within {timeout} s:\n{self.output}") from None

    async def stop(self) -> int:
        """SIGTERM (a clean stop), SIGKILL if it hangs; the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self._reader is not None:
            await self._reader
        return code


@contextlib.asynccontextmanager
async def simulator(*args: str, cache: Path) -> AsyncIterator[Simulator]:
    """A running simulator process, stopped on exit."""
    sim = Simulator(*args, cache=cache)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


def station_id_of(sim_output: str) -> str:
    """The (first) station id a run announces: "1 station(s) sim-001 -> ws://..."."""
    found = re.search(r"\d+ station\(s\) (\S+)( \.\. \S+)? -> ", sim_output)
    assert found is not None, sim_output
    return found.group(1)


def lock_files(directory: Path) -> list[str]:
    """The names of the station id claims below `directory`."""
    return sorted(path.name for path in directory.rglob("*.lock"))


# ---- --help --------------------------------------------------------------------------------------------------


async def test_help_shows_the_id_prefix_every_default_and_an_example() -> None:
    wrapper = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "simulate"),
        "--help",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    async with asyncio.timeout(60):
        out, _ = await wrapper.communicate()
    assert wrapper.returncode == 0
    text = out.decode()
    # Each option's entry: its line and the continuation lines below it, whitespace folded.
    entries: dict[str, str] = {}
    current = None
    options_part, _, notes = text.partition("\nstation ids:\n")
    for line in options_part.splitlines():
        if option := re.match(r"  (-[-\w]+)", line):
            current = option.group(1)
            entries[current] = line
        elif current is not None and line.startswith("      "):
            entries[current] += " " + line.strip()
        else:
            current = None
    options = {
        action.option_strings[0] for action in build_parser()._actions if action.option_strings[0] not in ("-h",)
    }
    assert set(entries) - {"-h"} == options
    for option in options:
        assert "(default: " in entries[option], f"{option} shows no default: {entries[option]}"
    assert "(default: sim-, numbered from the first free range" in " ".join(entries["--id-prefix"].split())
    assert "(default: 1)" in entries["--stations"]
    assert "16 to 40 characters" in entries["--password"]
    # The id rule is explained, and there are examples a user can copy.
    assert "lock files in" in notes
    assert "examples:" in notes
    assert re.search(r"^  scripts/simulate --url ws://\S+ --password \S{16,40} --scenario charge$", notes, re.M)


# ---- arguments refused before anything connects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short-pw"], "argument --password: the password has 8 characters; security profiles 1 "),
        (["--password", "x" * 41], "the password has 41 characters"),
        (["--password", "sixteen-chars-ok!"], "may only contain letters, digits and *-_=:+|@."),
        ([], "security profile 1 needs --password (or --credentials)"),
        (["--stations", "-2"], "argument --stations: must be at least 1, not -2"),
        (["--stations", "0"], "argument --stations: must be at least 1, not 0"),
        (["--evses", "0"], "argument --evses: must be at least 1, not 0"),
        (["--first-id", "-1"], "argument --first-id/--first: must be at least 0, not -1"),
        (["--meter-interval", "-5"], "argument --meter-interval: must be at least 0, not -5"),
        (["--idle-time", "nan"], "argument --idle-time: must be at least 0, not nan"),
        (["--stats-interval", "0"], "argument --stats-interval: must be more than 0, not 0"),
        (["--backoff-min", "0", "--backoff-range", "0"], "would reconnect in a tight loop"),
        (["--profile", "3"], "security profile 3 needs a wss:// URL"),
        (["--profile", "3", "WSS"], "security profile 3 needs --cert-file and --key-file"),
        (["--profile", "2", "WSS", "--cert-file", "CERT"], "--cert-file and --key-file are for security profile 3"),
        (["--cert-file", "/no/such/station.crt"], "argument --cert-file: no file /no/such/station.crt"),
        (["--id-prefix", "garage:"], "station id 'garage:001' contains ':'"),
        (["--id-prefix", "p" * 46], "has 49 characters; at most 48 are allowed"),
        (["--set", "TxCtrlr.StopTxOnInvalidId=maybe"], "--set: TxCtrlr.StopTxOnInvalidId=maybe: not true or false"),
        (["--log-level", "loud"], "argument --log-level: invalid choice: 'LOUD'"),
        (
            ["--credentials", "CREDENTIALS", "--stations", "2"],
            "--credentials lists the stations and their passwords; leave out --stations",
        ),
        (["--credentials", "CREDENTIALS"], "station short-one: the password has 9 characters"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
async def test_bad_arguments_are_refused_before_anything_connects(
    tmp_path: Path, socket_enabled: None, args: list[str], message: str
) -> None:
    connections: list[Any] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer.get_extra_info("peername"))
        writer.close()

    server = await asyncio.start_server(accepted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    certificate = tmp_path / "station.crt"
    certificate.write_text("not read: the arguments are refused first", encoding="ascii")
    credentials = tmp_path / "stations.json"
    credentials.write_text('[{"id": "short-one", "password": "too-short"}]', encoding="utf-8")
    url = f"ws://127.0.0.1:{port}"
    if "WSS" in args:
        args = [arg for arg in args if arg != "WSS"]
        url = f"wss://127.0.0.1:{port}"
    replaced = {"CERT": str(certificate), "CREDENTIALS": str(credentials)}
    args = [replaced.get(arg, arg) for arg in args]
    needs_password = "--password" not in args and "--credentials" not in args and args
    command = ["--url", url, *args, *(["--password", STATION_PASSWORD] if needs_password else [])]
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tools.simulator",
            *command,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "OCPP_CSMS_CACHE": str(tmp_path / "cache")},
        )
        async with asyncio.timeout(30):
            out, err = await process.communicate()
    finally:
        server.close()
        await server.wait_closed()
    errors = " ".join(err.decode().split())
    assert process.returncode == 2, errors
    assert errors.startswith("usage: scripts/simulate")
    assert "scripts/simulate: error: " in errors
    assert message in errors, errors
    assert not out
    assert connections == []
    for secret in ("short-pw", "x" * 41, "sixteen-chars-ok!", "too-short"):
        assert secret not in errors  # a password is never repeated back
    assert not lock_files(tmp_path)  # no station id was claimed either


# ---- cards the central system does not know -----------------------------------------------------------------


async def test_unknown_cards_print_how_to_allow_them_once_per_station(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    """Stations the central system accepts, cards it does not know: Authorize answers Unknown."""
    entry = await setup_integration(stations=[trusted_station("home-001"), trusted_station("home-002")])
    args = ["--url", ws_url(entry), "--id-prefix", "home-", "--stations", "2", "--password", STATION_PASSWORD]
    async with simulator(*args, "--scenario", "charge", *FAST, cache=tmp_path) as sim:
        for station_id in ("home-001", "home-002"):  # a few refusals each; a hint for the first one only
            await sim.wait_for(rf"{station_id}: ID token \w+ not accepted", count=3)
        central = entry.runtime_data.central.stations
        assert central["home-001"].connected
        assert central["home-002"].connected
    output = sim.output
    first, second = sorted(
        ("home-001", "home-002"), key=lambda station_id: output.index(f"== {station_id}: the central system")
    )
    for station_id in (first, second):
        assert output.count(f"== {station_id}: the central system refused card") == 1, output
    first_cards, second_cards = station_tokens(first), station_tokens(second)

    # The first station's hint in full: its cards, the options flow, the action, the policy.
    start = output.index(f"== {first}: the central system refused card")
    hint = output[start:].split("\n==", 1)[0]
    assert re.match(
        rf"== {first}: the central system refused card ({'|'.join(first_cards)}) \(Authorize: Unknown\)", hint
    )
    assert f"Its drivers present these RFID cards (ISO14443): {', '.join(first_cards)}" in hint
    assert (
        "Settings → Devices & services → OCPP Charging Station Management → Configure → ID tokens (charging cards)"
        in hint
    )
    assert "action: ocpp_csms.add_id_token" in hint
    assert f"id_token: {first_cards[0]}" in hint
    assert "Configure → General settings → Unknown ID tokens: Accept" in hint

    # The second one briefly: its own cards and both ways.
    [line] = [line for line in output.splitlines() if line.startswith(f"== {second}: ")]
    assert f"its cards: {', '.join(second_cards)}" in line
    assert "ocpp_csms.add_id_token with id_token: <card>" in line
    assert "Unknown ID tokens: Accept" in line


async def test_no_hint_when_the_cards_are_accepted(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    entry = await setup_integration(options={CONF_UNKNOWN_TOKENS: "accept"}, stations=[trusted_station("home-001")])
    args = ["--url", ws_url(entry), "--id-prefix", "home-", "--password", STATION_PASSWORD, "--scenario", "charge"]
    async with simulator(*args, *FAST, "--charge-time", "0.3", cache=tmp_path) as sim:
        await sim.wait_for(r"home-001: transaction \S+ ended", count=2)
    assert "refused card" not in sim.output
    assert "not accepted" not in sim.output


# ---- station ids -------------------------------------------------------------------------------------------


async def test_two_runs_with_default_ids_never_share_an_id(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    """The second run gets the next free ids; both stay connected; alone, a run gets sim-001 again."""
    entry = await setup_integration(options={CONF_UNKNOWN_STATIONS: "accept"})
    central = entry.runtime_data.central.stations
    args = ["--url", ws_url(entry), "--password", STATION_PASSWORD, *FAST]
    async with simulator(*args, cache=tmp_path) as first:
        await first.wait_for(r"sim-001: accepted")
        async with simulator(*args, "--stations", "2", cache=tmp_path) as second:
            await second.wait_for(r"sim-003: accepted")
            await second.wait_for(r"sim-002: accepted")
            assert station_id_of(second.output) == "sim-002"
            assert "other scripts/simulate runs use station ids before sim-002" in second.output
            await asyncio.sleep(0.5)  # a replaced connection would show by now
            assert all(central[station_id].connected for station_id in ("sim-001", "sim-002", "sim-003"))
            assert "connection lost" not in first.output
        assert station_id_of(first.output) == "sim-001"
        assert "connection lost" not in first.output
        assert lock_files(tmp_path) == ["sim-001.lock"]  # the second run let go of its ids

    async with simulator(*args, cache=tmp_path) as again:
        await again.wait_for(r"sim-001: accepted")
    assert station_id_of(again.output) == "sim-001"


async def test_explicit_ids_stay_as_given_and_warn_when_another_run_has_them(
    tmp_path: Path, socket_enabled: None
) -> None:
    """--first-id and --credentials (how the demo runs its pre-approved sim-001) are never renumbered."""
    url = f"ws://127.0.0.1:{free_port()}"  # nothing listens: the stations just retry
    credentials = tmp_path / "demo.json"
    credentials.write_text(f'{{"stations": [{{"id": "sim-001", "password": "{STATION_PASSWORD}"}}]}}', encoding="utf-8")
    async with simulator("--url", url, "--password", STATION_PASSWORD, cache=tmp_path) as default:
        await default.wait_for(r"station\(s\) sim-001 ")
        for explicit in (["--first-id", "1", "--password", STATION_PASSWORD], ["--credentials", str(credentials)]):
            async with simulator("--url", url, *explicit, "--duration", "0.2", cache=tmp_path) as run:
                await run.wait_for(r"stopping 1 station")
            assert station_id_of(run.output) == "sim-001"
            assert re.search(
                r"WARNING .*station id sim-001 is in use by another scripts/simulate run \(pid \d+\)", run.output
            )
        async with simulator(
            "--url", url, "--id-prefix", "sim-", "--duration", "0.2", "--password", STATION_PASSWORD, cache=tmp_path
        ) as run:
            await run.wait_for(r"stopping 1 station")
        assert station_id_of(run.output) == "sim-001"  # an explicit prefix numbers from 1, as given
    assert "is in use" not in default.output
