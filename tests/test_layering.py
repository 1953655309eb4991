"""The layout's rules: HA-free packages never import Home Assistant, and no module imports itself in a circle.

Every subpackage of the integration (`protocol`, `csms`, `station`, `charging`, `energy`, `planner`, `v2g`) is a library
that could be lifted out. It may import the standard library, third-party packages other than Home Assistant and the
`ocpp` test oracle, and its sibling subpackages, never the glue modules around them (which import Home Assistant).

The glue depends in one direction: services on the shared context, the runtime data on the services, entities and
actions on the runtime data. No import cycle, TYPE_CHECKING and function-level imports included.
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


def absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an ImportFrom statement in `package` names, made absolute."""
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(source: Path, package: str) -> set[str]:
    """Every module a file imports, at any depth of the file, with relative imports made absolute."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            modules.add(absolute(node, package))
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


def test_the_ha_free_packages() -> None:
    assert {p.name for p in HA_FREE_PACKAGES} == {"protocol", "csms", "station", "charging", "energy", "planner", "v2g"}


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


def import_graph(root: Path, package_name: str = PACKAGE) -> dict[str, set[str]]:
    """Every module of a package and the package's modules it imports, at any depth of the file."""

    def name_of(source: Path) -> str:
        parts = source.relative_to(root).with_suffix("").parts
        return ".".join((package_name, *(parts[:-1] if parts[-1] == "__init__" else parts)))

    sources = {name_of(source): source for source in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, source in sources.items():
        package = name if source.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = absolute(node, package)
                # `from . import x` imports the module x when there is one, else a name of the package.
                submodules = {f"{base}.{alias.name}" for alias in node.names} & sources.keys()
                edges |= submodules or ({base} & sources.keys())
            elif isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names} & sources.keys()
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a graph, each as a path that returns to its start."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph(INTEGRATION)) == []


def test_cycle_finder_sees_a_type_checking_cycle(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("from .hub import Hub\n", encoding="utf-8")
    (tmp_path / "hub.py").write_text("from .service import Service\nclass Hub: ...\n", encoding="utf-8")
    (tmp_path / "service.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .hub import Hub\n", encoding="utf-8"
    )
    (tmp_path / "other.py").write_text("def f():\n    from . import service\n", encoding="utf-8")
    graph = import_graph(tmp_path, "pkg")
    assert graph == {
        "pkg": {"pkg.hub"},
        "pkg.hub": {"pkg.service"},
        "pkg.service": {"pkg.hub"},
        "pkg.other": {"pkg.service"},
    }
    assert cycles(graph) == [["pkg.hub", "pkg.service", "pkg.hub"]]
