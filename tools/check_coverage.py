"""Fail when a module of the integration is covered less than its floor (run after pytest --cov).

Every module: at least 90 %. The config and options flows: 100 %. The total (95 %) is pytest-cov's own check.
Reads the `.coverage` data file the test run wrote; prints the modules below their floor.
"""

from __future__ import annotations

import sys

from coverage import Coverage

MODULE_FLOOR = 90.0
FLOORS = {"custom_components/ocpp_csms/config_flow.py": 100.0}


def main() -> int:
    """Check each measured file against its floor."""
    coverage = Coverage()
    coverage.load()
    below = []
    for filename in sorted(coverage.get_data().measured_files()):
        analysis = coverage._analyze(filename)  # noqa: SLF001 - the public API reports totals only
        numbers = analysis.numbers
        percent = numbers.pc_covered
        name = filename[filename.index("custom_components/") :] if "custom_components/" in filename else filename
        floor = FLOORS.get(name, MODULE_FLOOR)
        if percent < floor:
            below.append(f"{name}: {percent:.1f} % < {floor:.0f} %")
    if below:
        print("Modules below their coverage floor:")
        print("\n".join(f"  {line}" for line in below))
        return 1
    print(f"Every module is covered at least {MODULE_FLOOR:.0f} % (config flow 100 %).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
