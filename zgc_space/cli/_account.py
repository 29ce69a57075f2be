"""Subcommand ``account``: source layers → the block table, the land account layer and conflicts."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from zgc_space.cli._common import add_json_flag, emit_json, noted
from zgc_space.errors import UsageError

if TYPE_CHECKING:
    from zgc_space.accounting import Accounting

_LAYERS = ("plan", "supply", "idle", "serviced", "buildings", "enterprises")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``account``."""
    p = sub.add_parser(
        "account",
        help="land accounting by overlay: blocks × survey parcels × plan plots × supply/idle/serviced land",
        description="Overlay the blocks with the source layers (TD/T 1029 classes A1-A6, B11, B12, B21, B22, C) "
                    "and write the block table, the pieces layer and the conflicts. A layer in a multi-layer "
                    "GeoPackage or GDB is named as FILE::LAYER.",
    )
    p.add_argument("--blocks", required=True, help="block outlines with block_id")
    p.add_argument("--survey", required=True, help="survey parcels (地类图斑) with a DLBM column")
    p.add_argument("--plan", help="plan plots (控规) with a planned-use code and net FAR cap")
    p.add_argument("--supply", help="supply records (供地) polygons")
    p.add_argument("--idle", help="idle-land determinations (闲置土地) polygons")
    p.add_argument("--serviced", help="land ready to supply (已达到供地条件) polygons")
    p.add_argument("--buildings", help="building footprints with floors or height")
    p.add_argument("--enterprises", help="enterprise register (points, or building_id / parcel_id)")
    p.add_argument("--codes", action="append", help="code table name or mapping file (repeatable; later wins)")
    p.add_argument("--as-of", help="evaluation date YYYY-MM-DD (records in force on that day)")
    p.add_argument("--overlaps", choices=("raise", "first"), default="raise",
                   help="overlapping survey parcels or plan plots: error (default) or earlier wins")
    p.add_argument("--unknown", choices=("raise", "report"), default="raise",
                   help="codes not in the mapping: error (default) or left out and reported")
    p.add_argument("--partitions", type=int,
                   help="account the blocks in N groups of neighbours, reading the survey, plan and buildings near "
                        "each group only (bounded memory; GeoParquet folders through dask-geopandas)")
    p.add_argument("--scheduler", help="dask.distributed scheduler address (tcp://host:8786): run the partitions "
                                       "on its workers (needs --partitions)")
    p.add_argument("--pieces-out", help="folder: write each partition's pieces there as GeoParquet parts as it is "
                                        "done instead of holding them (needs --partitions; the GeoPackage then has "
                                        "no pieces layer)")
    p.add_argument("--threads", type=int, default=1, help="threads for the intersections (default 1)")
    p.add_argument("--out", required=True, help="GeoPackage to write (layers blocks, pieces, conflicts) + CSVs")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from zgc_space import accounting

    layers = {k: getattr(args, k) for k in _LAYERS if getattr(args, k)}
    inputs = [args.blocks, args.survey, *layers.values(), *(args.codes or [])]
    inputs = [str(i).split("::")[0] for i in inputs]
    codes = args.codes if args.codes else "gbt21010_2017"
    if args.scheduler and not args.partitions:
        raise UsageError("--scheduler runs partitions on a cluster: give --partitions N as well")
    if args.pieces_out and not args.partitions:
        raise UsageError("--pieces-out writes each partition's pieces as it is done: give --partitions N as well")
    if (args.partitions is not None and args.partitions < 1) or args.threads < 1:
        raise UsageError("--partitions and --threads take a positive whole number")
    result, notes = noted(
        accounting.account, args.blocks, survey=args.survey, codes=codes, as_of=args.as_of,
        overlaps=args.overlaps, unknown=args.unknown, threads=args.threads, partitions=args.partitions,
        scheduler=args.scheduler, pieces_out=args.pieces_out, **layers,
    )
    params = {"codes": codes, "as_of": args.as_of, "overlaps": args.overlaps, "unknown": args.unknown,
              "partitions": args.partitions, "pieces_out": args.pieces_out}
    written = accounting.write(result, args.out, inputs=inputs, parameters=params)
    zone = result.summary[result.summary["level"] == "zone"].iloc[0]
    kinds = result.conflicts.groupby("kind")["area_m2"].agg(["size", "sum"])
    payload = {
        "blocks": len(result.blocks),
        "pieces": _piece_count(result),
        "zone": {k: zone[k] for k in accounting.TERMS},
        "terms": dict(accounting.TERMS),
        "subparks": result.summary[result.summary["level"] == "subpark"].drop(columns="level").set_index("key"),
        "conflicts": {k: {"count": int(r["size"]), "area_m2": float(r["sum"])} for k, r in kinds.iterrows()},
        "missing": list(result.missing),
        "notes": [*result.notes, *notes],
        "written": [str(p) for p in written],
    }
    if args.json:
        emit_json(payload)
        return 0
    for note in payload["notes"]:
        print(f"note: {note}", file=sys.stderr)
    print(f"{len(result.blocks)} blocks, {payload['pieces']:,} pieces")
    for key, term in accounting.TERMS.items():
        value = zone[key]
        print(f"  {term}: {value:,.2f}" + ("" if key == "far" else " km²"))
    for kind, c in payload["conflicts"].items():
        print(f"  conflict {kind}: {c['count']} ({c['area_m2']:,.0f} m²)")
    for path in written:
        print(f"wrote {path}")
    return 0


def _piece_count(result: Accounting) -> int:
    """Pieces held, or counted in the GeoParquet parts they were written to (metadata only)."""
    if not result.pieces_files:
        return len(result.pieces)
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in result.pieces_files)
