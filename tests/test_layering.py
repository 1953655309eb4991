"""The protocol and charging logic never import Home Assistant: they could be lifted out as a library."""

import ast
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "ocpp_csms"
HA_FREE_PACKAGES = sorted(p.parent for p in INTEGRATION.glob("*/__init__.py"))


def imported_modules(source: Path) -> set[str]:
    """Every module a Python file imports, absolute or relative, at any depth of the file."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            modules.add(base)
    return modules


def test_there_are_ha_free_packages() -> None:
    assert HA_FREE_PACKAGES, "the integration has no logic subpackage to check"


@pytest.mark.parametrize("package", HA_FREE_PACKAGES, ids=lambda p: p.name)
def test_subpackage_imports_nothing_from_home_assistant(package: Path) -> None:
    offenders = []
    for source in sorted(package.rglob("*.py")):
        for module in imported_modules(source):
            # A relative import that climbs out of the subpackage reaches the Home Assistant glue.
            climbs_out = (
                module.startswith("..")
                and len(module) - len(module.lstrip(".")) > source.relative_to(package).parts.__len__() - 1
            )
            if module.split(".")[0] == "homeassistant" or climbs_out:
                offenders.append(f"{source.relative_to(INTEGRATION)} imports {module}")
    assert not offenders, "\n".join(offenders)


def test_checker_sees_home_assistant_imports(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from homeassistant.core import HomeAssistant\n", encoding="utf-8")
    assert "homeassistant.core" in imported_modules(source)
