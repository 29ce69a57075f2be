"""The package's shape: layers, no cycles, private names kept private, small files, one atomic writer."""

from __future__ import annotations

import ast
import os
import re
import stat
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zgc_space"

#: The data flow, top to bottom: a unit may import only units on lower lines.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "schema"),
    ("crs",),
    ("io",),
    ("datasets",),
    ("blocks",),
    ("indicators", "capacity", "buildings", "raster"),
    ("accounting", "labels"),
    ("evaluation",),
    ("ranking",),
    ("scenarios",),
    ("dynamic", "optimize"),
    ("maps",),
    ("editor",),
    ("report",),
    ("demo",),
    ("cli",),
    ("__main__",),
)
LEVEL = {unit: i for i, names in enumerate(LAYERS) for unit in names}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every zgc_space module ``path`` imports (at any depth), resolved to a module name, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "zgc_space":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((sub if sub in MODULES else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "zgc_space"]
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "zgc_space"


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES} - {"zgc_space"}
    assert units <= set(LEVEL), f"give these a layer in LAYERS: {sorted(units - set(LEVEL))}"


def test_no_import_against_the_layers():
    wrong = []
    for module, path in MODULES.items():
        me = _unit(module)
        if me == "zgc_space":
            continue  # the package door imports its core eagerly and the rest lazily
        for target, line in _imports(path):
            other = _unit(target)
            if other == me:
                continue
            if other == "zgc_space":
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports the package root")
                continue
            if LEVEL[other] >= LEVEL[me]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not wrong, "imports against the data flow:\n" + "\n".join(wrong)


def test_no_import_cycle():
    graph = {m: {t for t, _ in _imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
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
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_no_private_name_across_units():
    wrong = []
    for module, path in MODULES.items():
        me = _unit(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("zgc_space"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    private = [c for c in full.split(".")[1:] if c.startswith("_") and not c.startswith("__")]
                    if private and _unit(full) != me:
                        wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} from {node.module} "
                                     f"import {alias.name}")
    assert not wrong, "private names used outside their package:\n" + "\n".join(wrong)


def test_files_are_small_and_the_top_level_is_short():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long, f"files over 500 lines: {long}"
    entries = {p.stem for p in PACKAGE.iterdir() if p.name != "__pycache__"} - {"__init__"}
    # every top-level entry is a unit of LAYERS (the folders tell the data flow), and no more
    assert entries == set(LEVEL), sorted(entries ^ set(LEVEL))
    assert len(entries) <= 24, sorted(entries)


def test_every_package_has_a_public_door():
    for init in PACKAGE.rglob("__init__.py"):
        text = init.read_text(encoding="utf-8")
        assert re.search(r"^__all__", text, re.M), f"{init} has no __all__"


def test_one_atomic_write_in_the_package():
    pattern = re.compile(r"os\.replace\(|os\.rename\(|\.rename\(|\.replace\(\s*\w+\s*\)|shutil\.move\(")
    hits = []
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and "columns=" not in code and ".rename(columns" not in code \
                    and "index.rename(" not in code:
                hits.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    outside = [h for h in hits if not h.startswith("zgc_space/io/_atomic.py")]
    assert not outside, "renames outside zgc_space/io/_atomic.py:\n" + "\n".join(outside)


@pytest.mark.slow
def test_every_writer_gives_the_same_file_mode(tmp_path):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from zgc_space import datasets, io, maps, raster
    from zgc_space.maps import static

    old = os.umask(0o022)
    try:
        blocks = datasets.load_blocks().head(3)
        written = [
            io.write_blocks(blocks, tmp_path / "b.gpkg"),
            io.write_blocks(blocks, tmp_path / "b.parquet"),
            io.write_table(pd.DataFrame({"x": [1]}), tmp_path / "t.csv"),
            io.write_table(pd.DataFrame({"x": [1]}), tmp_path / "t.xlsx"),
            io.write_shapefile(blocks, tmp_path / "b.shp"),
            io.write_atomic(tmp_path / "raw.bin", b"x"),
            maps.save_html(maps.choropleth(blocks, "gfa_m2", subparks=False), tmp_path / "m.html"),
            raster.rasterize(blocks, "gfa_m2", path=tmp_path / "r.tif", resolution_m=100.0),
            *static.static_map(blocks, "gfa_m2", path=tmp_path / "s", formats=("png",)),
        ]
        frame = gpd.GeoDataFrame({"block_id": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=blocks.crs)
        assert len(frame) == 1
    finally:
        os.umask(old)
    modes = {Path(p).name: stat.S_IMODE(os.stat(p).st_mode) for p in written}
    assert set(modes.values()) == {0o644}, modes
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_docstrings_cite_the_standard_not_our_design_notes():
    notes = re.compile(r"\b(REFERENCE|DESIGN|STYLE)\.md\b")
    found = [f"{p.relative_to(PACKAGE.parent)}:{n}" for p in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.yaml")]
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if notes.search(line)]
    assert not found, f"cite the standard (TD/T 1029 clause, MNR notice) instead: {found}"


def test_old_module_paths_are_aliases_of_the_new_ones():
    import importlib

    import zgc_space

    for old, new in zgc_space.ALIASES.items():
        alias = importlib.import_module(f"zgc_space.{old}")
        assert alias is importlib.import_module(new) is getattr(zgc_space, old)
        assert alias.__spec__.name == new  # the module keeps its own identity
