"""The package's layering (docs/architecture.md), enforced on the source: every import, including
the ones inside functions, goes to a module of the same or a lower layer, and no two modules
import each other, directly or through others."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "robbench_plugin"

# layer -> modules (the package is ``robbench_plugin``; ``adapters.*`` = every module under adapters/)
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"_version", "errors", "paths", "fileutil", "plotting", "stats"}),
    ("space", {"space", "costs", "encodings", "pareto"}),
    ("data", {"table", "release", "download", "synthetic", "train.recipe", "store", "idx", "fashion_mnist",
              "metrics", "release_time"}),
    ("training", {"train", "train.attacks", "train.data", "train.model", "train.loop", "train.builder",
                  "build_table"}),
    ("benchmark", {"objective", "problem", "grid"}),
    ("benchmark kinds and analyses", {"surrogate", "surrogate.*", "live", "proxies", "report"}),
    ("loader", {"loader"}),
    ("adapters", {"adapters", "adapters.*"}),
    ("applications", {"search", "compare", "cli", "cli.*", "cli_args", ""}),
]


def modules() -> dict[str, Path]:
    """Dotted module name relative to the package ("" = the package) -> file."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> int:
    for i, (_, names) in enumerate(LAYERS):
        if module in names or any(n.endswith(".*") and module.startswith(n[:-1]) for n in names):
            return i
    raise AssertionError(f"module robbench_plugin.{module} is in no layer of tests/test_layering.py "
                         "(and docs/architecture.md): place it")


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Package modules that ``module`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if module else []
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("robbench_plugin"):
                target = node.module[len("robbench_plugin"):].lstrip(".")
            else:
                continue
            targets = [f"{target}.{a.name}".lstrip(".") for a in node.names] + [target]
        elif isinstance(node, ast.Import):
            targets = [a.name[len("robbench_plugin"):].lstrip(".") for a in node.names
                       if a.name.startswith("robbench_plugin")]
        for t in targets:
            if t in known and t != module:
                found.add(t)
                break
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def test_every_import_goes_down_or_sideways():
    wrong = [f"robbench_plugin.{m or '__init__'} ({LAYERS[layer_of(m)][0]}) imports robbench_plugin.{d} "
             f"({LAYERS[layer_of(d)][0]})"
             for m, deps in graph().items() for d in sorted(deps) if layer_of(d) > layer_of(m)]
    assert not wrong, "\n".join(wrong)


def test_no_import_circles():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    assert circles == []


def test_core_never_imports_an_adapter():
    core = [m for m in graph() if layer_of(m) < layer_of("adapters")]
    g = graph()
    assert [(m, d) for m in core for d in g[m] if d.startswith("adapters")] == []


def test_the_checker_sees_lazy_and_absolute_imports(tmp_path):
    """The import scanner finds imports inside functions and absolute ones (so the tests above can fail)."""
    src = tmp_path / "mod.py"
    src.write_text("def f():\n    from .adapters.optuna import x\n    import robbench_plugin.cli\n")
    known = {"adapters.optuna", "adapters", "cli", "mod"}
    assert imports("mod", src, known) == {"adapters.optuna", "cli"}
