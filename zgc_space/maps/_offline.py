"""Offline HTML for folium maps: inline the JavaScript/CSS from PyPI packages, fix element ids.

folium's templates load Leaflet, jQuery, Bootstrap, Font Awesome and Leaflet.awesome-markers
from public CDNs. Here every asset a map needs is read from an installed PyPI package
(``xstatic-leaflet``, ``xstatic-jquery``) and written into the page, the images Leaflet's CSS
refers to become ``data:`` URIs, and the assets only markers with icons and Bootstrap-styled
popups use are dropped (no map made by :mod:`zgc_space.maps` uses them). An element that needs
an asset no installed package provides stops the export with a :class:`~zgc_space.errors.MapError`
instead of leaving a CDN link behind.
"""

from __future__ import annotations

import base64
import copy
import functools
import re
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

from branca.element import Element, Figure

from zgc_space.errors import MapError

__all__ = ["DROPPED_ASSETS", "INLINE_ASSETS", "assign_ids", "offline_html"]

#: folium asset name → (xstatic package, file inside its data folder, kind).
INLINE_ASSETS: dict[str, tuple[str, str, str]] = {
    "leaflet": ("xstatic.pkg.leaflet", "leaflet.js", "js"),
    "leaflet_css": ("xstatic.pkg.leaflet", "leaflet.css", "css"),
    "jquery": ("xstatic.pkg.jquery", "jquery.min.js", "js"),
}

#: Default folium assets no zgc_space map needs (marker icons, Bootstrap, icon fonts).
DROPPED_ASSETS: frozenset[str] = frozenset(
    {
        "bootstrap",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers",
        "awesome_markers_css",
        "awesome_markers_font_css",
        "awesome_rotate_css",
    }
)

#: Elements folium adds to a layer each time it renders (``Layer.render``, ``Marker.render``).
_RENDER_ADDED = frozenset({"ElementAddToElement", "SetIcon"})
_SOURCE_MAP = re.compile(r"^\s*(//|/\*)# sourceMappingURL=.*$", re.MULTILINE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")


def _data_dir(package: str) -> Path:
    try:
        module = import_module(package)
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise MapError(f"the offline map asset package {package!r} is not installed; pip install it") from exc
    return Path(module.BASE_DIR)


@functools.cache
def asset_text(name: str) -> str:
    """Return the text of one inlinable asset, ready to put inside ``<script>`` or ``<style>``."""
    package, filename, kind = INLINE_ASSETS[name]
    folder = _data_dir(package)
    text = (folder / filename).read_text(encoding="utf-8")
    text = _SOURCE_MAP.sub("", text)
    if kind == "css":
        text = _CSS_COMMENT.sub("", text)  # comments only (one cites a bug tracker URL)

        def _inline(match: re.Match[str]) -> str:
            data = base64.b64encode((folder / match.group(2)).read_bytes()).decode("ascii")
            return f"url(data:image/png;base64,{data})"

        text = _CSS_URL.sub(_inline, text)
    # A literal closing tag inside the asset would end the element early.
    closing = "</script" if kind == "js" else "</style"
    return text.replace(closing, "<\\/" + closing[2:])


def walk(element: Element) -> Iterator[Element]:
    """Yield ``element`` and all its descendants, depth first, in insertion order."""
    yield element
    for child in list(element._children.values()):
        yield from walk(child)


def assign_ids(root: Element) -> None:
    """Give every element under ``root`` a short id from a counter (folium draws random uuids)."""
    for i, element in enumerate(walk(root)):
        element._id = f"z{i:05d}"


def _needed_assets(root: Element) -> tuple[list[str], list[str]]:
    """Return (names to inline, ``name: url`` that cannot be inlined) over the whole tree."""
    names: list[str] = []
    missing: list[str] = []
    for element in walk(root):
        for name, url in [*getattr(element, "default_js", []), *getattr(element, "default_css", [])]:
            if name in INLINE_ASSETS:
                if name not in names:
                    names.append(name)
            elif name not in DROPPED_ASSETS:
                missing.append(f"{name}: {url} (used by {type(element).__name__})")
        if type(element).__name__ == "Icon":
            missing.append("awesome_markers (used by folium.Icon; use CircleMarker or DivIcon instead)")
    return names, missing


def offline_html(root: Figure, *, offline: bool = True) -> str:
    """Render a folium figure to one HTML string with no CDN links.

    The figure's elements are copied into a fresh page first, so earlier renders (a notebook
    display, a previous export) leave nothing behind and the caller's map is not changed.
    ``offline=False`` keeps folium's CDN links for Leaflet and jQuery (smaller file, needs the
    network) but still drops the unused assets.
    """
    page = Figure(width=root.width, height=root.height, ratio=root.ratio, title=root.title)
    memo = {id(root): page}  # one memo: elements that refer to each other (two synced maps) stay linked
    for name, child in root._children.items():
        clone = copy.deepcopy(child, memo=memo)
        clone._parent = None
        page.add_child(clone, name=name)
    for element in walk(page):  # what earlier renders added: each render adds it again
        stale = [k for k, c in element._children.items() if type(c).__name__ in _RENDER_ADDED]
        for key in stale:
            del element._children[key]
    assign_ids(page)
    return _render(page, offline=offline)


def _render(root: Figure, *, offline: bool) -> str:
    names, missing = _needed_assets(root)
    if missing and offline:
        raise MapError(
            "these map assets are not available from an installed package, so the map cannot be "
            "saved offline: " + "; ".join(sorted(set(missing))) + ". Remove those elements or save "
            "with offline=False"
        )
    saved: list[tuple[Element, str, object]] = []
    for element in walk(root):
        for attr in ("default_js", "default_css"):
            if hasattr(element, attr):
                saved.append((element, attr, element.__dict__.get(attr, _UNSET)))
                kept = [(n, u) for n, u in getattr(element, attr) if n not in DROPPED_ASSETS]
                setattr(element, attr, [] if offline else kept)
    try:
        html = root.render()
    finally:
        for element, attr, value in saved:
            if value is _UNSET:
                element.__dict__.pop(attr, None)
            else:
                setattr(element, attr, value)
    if not offline:
        return html
    blocks = []
    for name in sorted(names, key=_asset_order):
        kind = INLINE_ASSETS[name][2]
        tag = "script" if kind == "js" else "style"
        blocks.append(f"<{tag} data-asset={name!r}>\n{asset_text(name)}\n</{tag}>")
    head = "<head>"
    at = html.index(head) + len(head)
    return html[:at] + "\n" + "\n".join(blocks) + html[at:]


_UNSET = object()


def _asset_order(name: str) -> int:
    return list(INLINE_ASSETS).index(name)
