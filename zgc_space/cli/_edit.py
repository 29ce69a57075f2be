"""Subcommand ``edit``: edit a proposal on the map in the browser, served on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path

from zgc_space import io
from zgc_space.cli._common import collecting_notes
from zgc_space.editor import EditorServer, EditSession
from zgc_space.errors import ParameterError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``edit``."""
    p = sub.add_parser(
        "edit", help="edit a proposal on the map in a local web page (127.0.0.1); indicators, score and rank "
        "update per click",
        epilog="The page works with no network. It saves proposal files into --out-dir and asks before "
        "replacing a file. zgc-space compare --baseline BLOCKS --candidates C on a saved file gives the "
        "numbers the page showed. Stop with Ctrl-C.",
    )
    p.add_argument("blocks", help="baseline block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--candidates", help="candidate areas file (candidate_id), for admissions")
    p.add_argument("--proposal", help="proposal YAML file to start from (default: an empty proposal)")
    p.add_argument("--port", type=int, default=8765, help="TCP port on 127.0.0.1 (default 8765; 0 picks a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open the page in the web browser")
    p.add_argument("--out-dir", help="folder the page saves proposals into (default: the --proposal file's "
                   "folder, else the current folder)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    out_dir = Path(args.out_dir) if args.out_dir else (Path(args.proposal).parent if args.proposal else Path.cwd())
    with collecting_notes() as notes:
        blocks = io.read_blocks(args.blocks)
        session = EditSession(blocks, candidates=args.candidates, proposal=args.proposal, out_dir=out_dir)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    try:
        server = EditorServer(session, port=args.port)
    except OSError as exc:
        raise ParameterError(f"cannot serve on 127.0.0.1 port {args.port}: {exc}; pass another --port "
                             "(0 picks a free one)") from exc
    print(f"zgc-space edit: {server.url} (saves into {out_dir.resolve()}); Ctrl-C to stop", flush=True)
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
