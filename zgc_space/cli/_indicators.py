"""Subcommands ``indicators`` and ``capacity`` on a block file."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from zgc_space import capacity as _capacity
from zgc_space import indicators as _indicators
from zgc_space import io, labels
from zgc_space.cli._common import add_json_flag, emit_json, lang_of, noted, print_table, read_checked, write_table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``indicators`` and ``capacity``."""
    p = sub.add_parser("indicators", help="TD/T 1029 indicators (ratios of sums) per block, sub-park or zone")
    p.add_argument("file", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    _add_by(p)
    p.add_argument("--indicators", help="comma-separated indicator ids or Chinese names (default: all)")
    p.add_argument("--out", help="also write the table to this .csv or .xlsx file")
    p.add_argument("--zh", action="store_true", help="Chinese names and units on the terminal and in --out")
    add_json_flag(p)
    p.set_defaults(func=_run_indicators)

    p = sub.add_parser("capacity", help="remaining and suppliable land, floor-area capacity under far_cap")
    p.add_argument("file", help="block file")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    _add_by(p)
    p.add_argument("--annual-supply-m2", type=_positive, help="land supplied per year (m²): gives years of supply left")
    p.add_argument("--fragmentation", action="store_true", help="also measure fragmentation (小散弱) per --by")
    p.add_argument("--potential", action="store_true",
                   help="also the TD/T 1029 potentials (expansion, structural, intensity, management) per --by")
    p.add_argument("--far-ideal", type=_positive,
                   help="ideal FAR T of the intensity potential (default: the preset's ideal value of far)")
    p.add_argument("--preset", default="cic_default",
                   help="preset whose ideal FAR is the default T (default: cic_default)")
    p.add_argument("--low-tax-10k-cny-per-ha", type=_positive,
                   help="blocks below this tax per ha of built land count as low-efficiency land (管理潜力)")
    p.add_argument("--pieces", help="land account layer (the pieces layer written by zgc-space account) "
                   "for the structural potential")
    p.add_argument("--zh", action="store_true", help="Chinese names and units on the terminal")
    add_json_flag(p)
    p.set_defaults(func=_run_capacity)


def _add_by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", default="zone",
        help="zone (default), block, subpark, cluster, any column, or columns joined by commas",
    )


def _positive(text: str) -> float:
    value = float(text)
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive area in m² per year, got {text}")
    return value


def _by(text: str) -> str | list[str]:
    """Return the ``--by`` grouping; Chinese names of columns are accepted (``--by 分园``, ``--by 地块编号``)."""
    words = {"区块": "block", "地块": "block", "全区": "zone", "园区": "zone"}
    parts = [words.get(p.strip(), labels.canonical(p)) for p in text.split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else parts



def _zone_land(frame: pd.DataFrame) -> dict[str, float | None]:
    """Zone-wide land totals in km² (None where the column is absent)."""

    def total(*cols: str) -> float | None:
        if not all(c in frame.columns for c in cols):
            return None
        return float(sum(pd.to_numeric(frame[c]).sum() for c in cols)) / 1e6

    return {
        "built_km2": total("built_m2"),
        "remaining_developable_km2": total("ready_m2", "unready_m2"),
        "ready_km2": total("ready_m2"),
        "nonconstruction_km2": total("nonconstruction_m2"),
        "supplied_km2": total("supplied_m2"),
        "gfa_km2": total("gfa_m2"),
    }


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _show(table: pd.DataFrame, *, lang: str = "en") -> None:
    print_table(table, transpose=len(table) <= 6, lang=lang)


def _run_indicators(args: argparse.Namespace) -> int:
    frame, notes = noted(read_checked, args, args.file, layer=args.layer)
    chosen = ([labels.canonical(s, choices=_indicators.INDICATORS) for s in args.indicators.split(",")]
              if args.indicators else None)
    table, more = noted(_indicators.compute, frame, by=_by(args.by), indicators=chosen)
    notes += more
    if args.out:
        write_table(table, args.out, inputs=[args.file], command=args.command, stem="indicators", zh=args.zh)
    if args.json:
        units = _indicators.indicator_catalog()["unit"]
        emit_json({
            "file": args.file,
            "blocks": len(frame),
            "by": args.by,
            "rows": table,
            "units": {i: units[i] for i in table.columns if i in units.index},
            "missing": table.attrs.get("missing", {}),
            "nan_reasons": table.attrs.get("nan_reasons", {}),
            "zone_land": _zone_land(frame),
            "out": args.out,
            "notes": notes,
        })
        return 0
    _print_notes(notes)
    # the terminal shows the indicators (the chosen ones), not the sums they are ratios of
    _show(table[[c for c in table.columns if c in (chosen or _indicators.INDICATORS)]], lang=lang_of(args))
    if args.out:
        print(f"wrote {args.out}")
    return 0


def _run_capacity(args: argparse.Namespace) -> int:
    frame, notes = noted(read_checked, args, args.file, layer=args.layer)
    by = _by(args.by)
    table, more = noted(_capacity.compute, frame, by=by, annual_supply_m2=args.annual_supply_m2)
    notes += more
    frag = None
    if args.fragmentation:
        frag, more = noted(_capacity.fragmentation, frame, by=by)
        notes += more
    pot = None
    if args.potential:
        far_ideal = args.far_ideal
        if far_ideal is None:
            from zgc_space import evaluation

            far_ideal = float(evaluation.load_preset(args.preset).indicators["far"].ideal)
        pieces = io.read_blocks(args.pieces, layer="pieces") if args.pieces else None
        pot, more = noted(_capacity.potential, frame, by=by, far_ideal=far_ideal,
                          low_tax_10k_cny_per_ha=args.low_tax_10k_cny_per_ha, pieces=pieces)
        notes += more + list(pot.attrs.get("notes", []))
    if args.json:
        payload = {
            "file": args.file,
            "blocks": len(frame),
            "by": args.by,
            "rows": table,
            "land_base": table.attrs.get("land_base"),
            "missing": table.attrs.get("missing", {}),
            "missing_cap": table.attrs.get("missing_cap", []),
            "zero_cap": table.attrs.get("zero_cap", []),
            "over_cap": table.attrs.get("over_cap", []),
            "zone_land": _zone_land(frame),
            "fragmentation": frag,
            "notes": notes,
        }
        if pot is not None:  # only with --potential: the keys without it stay as they were
            payload["potential"] = pot
            payload["far_ideal"] = pot.attrs["far_ideal"]
        emit_json(payload)
        return 0
    _print_notes(notes)
    _show(table, lang=lang_of(args))
    if len(table) == 1 and "remaining_m2" in table.columns:
        row = table.iloc[0]
        print(f"remaining developable land B: {row['remaining_m2'] / 1e6:.2f} km² "
              f"(ready B21 {row['ready_m2'] / 1e6:.2f}, not ready {row['unready_m2'] / 1e6:.2f}); "
              f"suppliable E = A + B21 - D: {row['suppliable_m2'] / 1e6:.2f} km²")
    if frag is not None:
        print()
        _show(frag, lang=lang_of(args))
    if pot is not None:
        print()
        print(f"potential (TD/T 1029; intensity at ideal FAR T = {pot.attrs['far_ideal']:g}), m²:")
        _show(pot, lang=lang_of(args))
    return 0
