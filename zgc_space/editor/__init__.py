"""Edit an adjustment proposal on the map, with the indicators, score and rank updating per click."""
from zgc_space.editor._session import EditSession, Notice

__all__ = ["EditSession", "Notice"]
