"""The demo in a real browser: Debian's Chromium, driven by Playwright, through Home Assistant's own frontend.

Logs in on the login page as the demo user, opens the simulated station's device page and its EVSE's, moves the
EVSE's *Charging current limit* slider and watches the power and current it shows follow within a meter
interval. Screenshots of both pages go to tests/screenshots/ (git-ignored; `scripts/test` prints the folder).
Skipped, saying why, where Chromium is not installed (`scripts/setup --browser` installs it when run as root).
"""

from collections.abc import AsyncIterator, Callable
import contextlib
import os
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING

from playwright.async_api import Locator, Page, async_playwright, expect
import pytest

if TYPE_CHECKING:
    from .demo_fixture import RunningDemo

CHROMIUM = Path("/usr/bin/chromium")

pytest_plugins = ("tests.demo_fixture",)
pytestmark = [
    pytest.mark.xdist_group("demo"),
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is missing: `scripts/setup --browser` installs Debian's chromium when run as root",
    ),
]

#: Without the background-networking flags, Chromium's own connections are refused by a closed network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
TARGET_AMPS = 6


@contextlib.asynccontextmanager
async def chromium_page(profile: Path) -> AsyncIterator[Page]:
    """A page in Debian's Chromium with a fresh user data dir."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 1100},
        )
        try:
            yield context.pages[0] if context.pages else await context.new_page()
        finally:
            await context.close()


def entity_row(page: Page, kind: str, name: str) -> Locator:
    """The device page's row of the entity with this name, in a `hui-<kind>-entity-row`.

    The row's generic part holds both the name (in its shadow root) and what the row shows (its children).
    """
    return page.locator(f"hui-{kind}-entity-row hui-generic-entity-row").filter(has=page.get_by_text(name, exact=True))


async def shown_number(row: Locator) -> float | None:
    """The number a sensor row shows ("4,140 W" -> 4140.0), None while it shows none."""
    match = re.search(r"-?[\d,]+(?:\.\d+)?", await row.inner_text())
    return float(match.group().replace(",", "")) if match else None


async def wait_until_shown(
    row: Locator, condition: str, check: Callable[[float], bool], timeout: float, *, page: Page, name: str
) -> float:
    """Poll what a sensor row shows until `check(value)` holds; the value (a screenshot if it never does)."""
    deadline = time.monotonic() + timeout
    value = await shown_number(row)
    while value is None or not check(value):
        if time.monotonic() > deadline:
            await page.screenshot(path=SCREENSHOTS / f"{name}-failed.png", full_page=True)
            pytest.fail(f"{name}: the page did not show {condition} within {timeout} s (it shows {value})")
        await page.wait_for_timeout(250)
        value = await shown_number(row)
    return value


async def open_device(page: Page, url: str, name: str) -> None:
    """Open a device's page from Settings → Devices, by clicking its name."""
    await page.goto(f"{url}/config/devices/dashboard")
    await page.get_by_role("rowheader", name=name, exact=True).click()
    await page.wait_for_url(re.compile(r"/config/devices/device/"))
    await expect(page.get_by_text("Device info")).to_be_visible()


@pytest.mark.timeout(300)
async def test_demo_in_chromium(running_demo: RunningDemo, socket_enabled: None, tmp_path: Path) -> None:
    """Log in, open the station's and the EVSE's pages, move the current limit, see the power follow."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    station = running_demo.info["stations"][0]["id"]
    evse = f"{station} EVSE 1"

    async with chromium_page(tmp_path / "chromium-profile") as page:
        # The real login page, as a person sees it.
        await page.goto(running_demo.url)
        await page.get_by_role("textbox", name="Username").fill(running_demo.info["username"])
        await page.get_by_role("textbox", name="Password").fill(running_demo.info["password"])
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(lambda url: "/auth/" not in url)
        await expect(page.get_by_text("Settings", exact=True)).to_be_visible()

        await open_device(page, running_demo.url, station)
        await expect(entity_row(page, "button", "Rotate password")).to_be_visible()
        await page.screenshot(path=SCREENSHOTS / "station.png", full_page=True)

        await open_device(page, running_demo.url, evse)
        power = entity_row(page, "sensor", "Power")
        current = entity_row(page, "sensor", "Current L1")
        limit = entity_row(page, "number", "Charging current limit")
        await expect(limit.locator("ha-slider")).to_be_visible()
        # The simulated car plugs in 10 s or so after the demo starts.
        before = await wait_until_shown(power, "charging above 1 kW", lambda w: w > 1000, 90, page=page, name="evse")
        await page.screenshot(path=SCREENSHOTS / "evse.png", full_page=True)

        # Move the slider: one click on its track, where TARGET_AMPS lies between its minimum and maximum.
        slider = limit.locator("ha-slider")
        low, high = await slider.evaluate("slider => [Number(slider.min), Number(slider.max)]")
        assert low < TARGET_AMPS < high
        track = await limit.locator("ha-slider #track").bounding_box()
        assert track is not None
        await page.mouse.click(
            track["x"] + track["width"] * (TARGET_AMPS - low) / (high - low), track["y"] + track["height"] / 2
        )
        await expect(slider.locator("#slider")).to_have_attribute("aria-valuenow", str(TARGET_AMPS))

        # The station applies the lower limit at once and shows it in its next meter value.
        amps = await wait_until_shown(
            current,
            f"at most {TARGET_AMPS} A",
            lambda a: 0 < a <= TARGET_AMPS + 0.5,
            3 * running_demo.meter_interval + 10,
            page=page,
            name="evse",
        )
        after = await wait_until_shown(
            power,
            f"at most {TARGET_AMPS} A of power",
            lambda w: 0 < w <= TARGET_AMPS * 240 * 3,
            10,
            page=page,
            name="evse",
        )
        assert after < before
        await page.screenshot(path=SCREENSHOTS / "evse-limited.png", full_page=True)

    shown = f"power {before:.0f} W -> {after:.0f} W at {amps} A per phase"
    print(f"\nscreenshots in {SCREENSHOTS}: {shown}")  # noqa: T201 - shown by pytest -s
