"""Edit an adjustment proposal on the map, with the indicators, score and rank updating per click.

* :class:`EditSession`: the edit state with no browser (clicks as methods, undo/redo, the
  panel's numbers, saving YAML that ``zgc-space compare`` evaluates to the same numbers);
* :class:`ProposalEditor`: the Jupyter widget (anywidget; needs the ``notebook`` extra);
* :class:`EditorServer`: the same front end as a local page on 127.0.0.1 (``zgc-space edit``).

Every update goes through :class:`zgc_space.scenarios.PreparedBaseline` (the building blocks of
:func:`zgc_space.scenarios.compare` with the baseline prepared once), the vectorised path of the
batch runs. The front end is one ES module with Leaflet inlined: no network, no tiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zgc_space.editor._server import EditorServer
from zgc_space.editor._session import EditSession, Notice

if TYPE_CHECKING:
    from zgc_space.editor._widget import ProposalEditor

__all__ = ["EditSession", "EditorServer", "Notice", "ProposalEditor"]


def __getattr__(name: str) -> Any:
    # The widget needs anywidget/ipywidgets, which the command line and the server do not.
    if name == "ProposalEditor":
        try:
            from zgc_space.editor._widget import ProposalEditor
        except ImportError as exc:
            raise ImportError(
                "zgc_space.editor.ProposalEditor needs anywidget: pip install 'zgc_space[notebook]'"
            ) from exc
        return ProposalEditor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
