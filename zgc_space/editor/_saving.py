"""Saving from the front end into the editor's folder: never over an existing file without asking.

The local page asks (a ``confirm`` question whose ``retry`` command replaces the file); the
widget cannot ask reliably in every notebook front end, so it refuses and offers a free name.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from zgc_space.editor._notices import Notice

__all__ = ["OnExisting", "free_name", "save_into"]

#: What saving does when the file exists: ask (the page) or refuse and offer a free name (the widget).
OnExisting = Literal["ask", "refuse"]

_BAD = '/\\:*?"<>|'


def free_name(folder: Path, name: str) -> str:
    """Return ``name`` with the lowest ``-2``, ``-3``... suffix that no file in ``folder`` has.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "p06.yaml").write_text("id: P6")
    >>> free_name(folder, "p06.yaml")
    'p06-2.yaml'
    """
    stem, dot, ext = name.rpartition(".")
    for k in range(2, 10_000):
        candidate = f"{stem}-{k}{dot}{ext}"
        if not (folder / candidate).exists():
            return candidate
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}{dot}{ext}"


def save_into(session: Any, name: str, *, overwrite: bool) -> tuple[Notice, dict[str, Any] | None, str | None]:
    """Save ``session`` (an EditSession) into its ``out_dir`` as ``name``.

    Returns the notice, the confirm question (or None) and the file name to offer next (or None).
    """
    folder: Path | None = session.out_dir
    if folder is None:
        return Notice("error", "此编辑器没有保存文件夹；请在 Python 中调用 save(path)",
                      "this editor has no folder to save into; call save(path) from Python"), None, None
    name = str(name).strip()
    if not name or name.startswith(".") or any(c in name for c in _BAD) or len(name) > 120:
        return Notice("error", f"“{name}”不是有效的文件名；请用字母、数字、- 或 _（例如 p06.yaml）",
                      f"{name!r} is not a file name; use letters, digits, - or _ (e.g. p06.yaml)"), None, None
    if not name.lower().endswith((".yaml", ".yml")):
        name += ".yaml"
    path = folder / name
    if path.exists() and not (overwrite and session.on_existing == "ask"):
        if session.on_existing == "refuse":
            free = free_name(folder, name)
            return Notice("error", f"{name} 已存在，未保存（不会覆盖已有文件）；可另存为 {free}",
                          f"{name} exists: not saved (an existing file is never replaced); save as {free} instead"), \
                None, free
        confirm = {"text": f"文件 {path} 已存在，是否覆盖？ {path} exists. Replace it?",
                   "retry": {"op": "save", "name": name, "overwrite": True}}
        return Notice("info", f"{name} 已存在，尚未保存（确认后覆盖）",
                      f"{name} exists: not saved (confirm to replace it)"), confirm, None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        session.save(path, overwrite=True)
    except OSError as exc:
        return Notice("error", f"无法保存 {path}：{exc}", f"cannot save {path}: {exc}"), None, None
    return Notice("info", f"已保存：{path}", f"saved: {path}"), None, name
