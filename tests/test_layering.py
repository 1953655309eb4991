"""The protocol and charging logic never import Home Assistant: they could be lifted out as a library.

Every subpackage of the integration is such a library. It may import the standard library, third-party packages
other than Home Assistant and the `ocpp` test oracle, and its sibling subpackages, never the glue modules around
them (which import Home Assistant).
"""

import ast
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "ocpp_csms"
PACKAGE = "custom_components.ocpp_csms"
HA_FREE_PACKAGES = sorted(p.parent for p in INTEGRATION.glob("*/__init__.py"))
FORBIDDEN_ROOTS = {"homeassistant", "ocpp"}


def module_name(source: Path) -> str:
    """The dotted name of a file of the integration."""
    parts = source.relative_to(INTEGRATION).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imported_modules(source: Path, package: str) -> set[str]:
    """Every module a file imports, at any depth of the file, with relative imports made absolute."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                modules.add(node.module or "")
                continue
            base = package.split(".")
            if node.level > 1:
                base = base[: -(node.level - 1)]
            modules.add(".".join([*base, node.module] if node.module else base))
    return modules


def offences(package_dir: Path) -> list[str]:
    """What the files of a logic subpackage import that they must not."""
    allowed_prefixes = tuple(f"{PACKAGE}.{p.name}" for p in HA_FREE_PACKAGES)
    found = []
    for source in sorted(package_dir.rglob("*.py")):
        name = module_name(source)
        package = name if source.name == "__init__.py" else name.rpartition(".")[0]
        for module in imported_modules(source, package):
            if module.split(".")[0] in FORBIDDEN_ROOTS:
                found.append(f"{source.relative_to(INTEGRATION)} imports {module}")
            elif module.startswith(PACKAGE) and not module.startswith(allowed_prefixes):
                found.append(f"{source.relative_to(INTEGRATION)} imports the glue module {module}")
    return found


def test_there_are_ha_free_packages() -> None:
    assert {p.name for p in HA_FREE_PACKAGES} >= {"protocol", "csms"}


@pytest.mark.parametrize("package", HA_FREE_PACKAGES, ids=lambda p: p.name)
def test_subpackage_imports_nothing_from_home_assistant(package: Path) -> None:
    assert offences(package) == []


def test_checker_sees_forbidden_imports(tmp_path: Path) -> None:
    package = tmp_path / "custom_components" / "ocpp_csms" / "logic"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "mod.py").write_text(
        "def f():\n    from homeassistant.core import HomeAssistant\n"
        "from ..const import DOMAIN\nfrom ..protocol import frames\nimport ocpp.v201\n",
        encoding="utf-8",
    )
    modules = imported_modules(package / "mod.py", f"{PACKAGE}.logic")
    assert modules == {"homeassistant.core", f"{PACKAGE}.const", f"{PACKAGE}.protocol", "ocpp.v201"}
