"""The package layers of app/, read from the code: no import goes up a layer, no two packages import each other
(directly or round a loop), the application never imports devtools/, and only app/workflow imports SpiffWorkflow.

Every import counts, including those inside functions: a lazy import is still a dependency."""
import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top. A package may import its own layer and those below; within a layer the imports form no loop.
LAYERS = [
    {"core", "extensions", "config"},
    {"audit", "reference", "auth", "formschema"},
    {"workflow"},
    {"cases", "tasks", "notifications", "scheduler", "modeler", "stats", "ops"},
    {"app", "cli", "wsgi"},  # the application factory (app/__init__.py), the command line, the WSGI entry
]
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """Absolute names of the modules a file imports (relative imports resolved)."""
    module, is_package = _module_name(path), path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                yield node.module
                continue
            base = module.split(".")[: len(module.split(".")) - (node.level - 1) - (0 if is_package else 1)]
            if node.module:
                yield ".".join([*base, node.module])
            else:
                yield from (".".join([*base, alias.name]) for alias in node.names)


def _package(module: str) -> str | None:
    """app.cases.views -> cases; app -> app; anything outside app -> None."""
    parts = module.split(".")
    if parts[0] != "app":
        return None
    return "app" if len(parts) == 1 or parts[1] == "create_app" else parts[1]


def import_graph() -> dict[str, dict[str, str]]:
    """package -> {imported package: first file that imports it}."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = _package(_module_name(path))
        for target in filter(None, map(_package, _imports(path))):
            if target != source:
                graph.setdefault(source, {}).setdefault(target, str(path.relative_to(ROOT)))
    return graph


def _cycles(graph) -> list[set[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_layer():
    packages = {p.name for p in (ROOT / "app").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "app").glob("*.py") if p.stem != "__init__"}
    assert (packages | modules) - {"migrations"} <= set(LAYER_OF) | {"app"}


def test_no_import_goes_up_a_layer():
    upward = [f"{source} → {target} ({where})" for source, targets in import_graph().items()
              for target, where in targets.items() if LAYER_OF[target] > LAYER_OF[source]]
    assert upward == []


def test_no_package_cycle():
    assert _cycles(import_graph()) == []


def test_the_checks_see_what_they_must_refuse():
    """Positive controls: an upward arrow and a loop are found when present."""
    graph = {"core": {"cases": "x.py"}, "cases": {"core": "y.py", "tasks": "z.py"}, "tasks": {"cases": "w.py"}}
    assert _cycles(graph) == [{"core", "cases", "tasks"}]
    assert LAYER_OF["cases"] > LAYER_OF["core"]
    real = import_graph()
    assert "workflow" in real["cases"] and "core" in real["workflow"]  # the graph is read from the code


def test_the_application_never_imports_devtools_and_only_workflow_imports_spiffworkflow():
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        for name in _imports(path):
            top = (name or "").split(".")[0]
            if top == "devtools" or (top == "SpiffWorkflow" and "workflow" not in path.relative_to(ROOT).parts[1:2]):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
