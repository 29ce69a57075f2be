"""``zgc-space demo``: the main job on the bundled sample data.

First accounts the sample's land from its source layers (survey parcels, plan plots, supply, idle
and serviced land, buildings, enterprises) and checks the result against the sample block table;
then validates the 164 sample blocks, prints the zone's headline figures, score and rank, and builds
the full hearing pack (indicators and rank, the example proposals compared, an optimisation, a
dynamic-adjustment simulation) and prints what it found and the path of its ``index.html``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from zgc_space import blocks as _blocks
from zgc_space import datasets
from zgc_space.cli._common import add_json_flag, emit_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo``."""
    p = sub.add_parser("demo", help="run the main job on the bundled sample data (builds the hearing pack)")
    p.add_argument("--out", default="out/demo", help="folder for the demo's outputs (default: out/demo)")
    p.add_argument("--no-png", action="store_true", help="skip the printed (PNG) maps of the pack")
    p.add_argument("--docx", action="store_true",
                   help="write the Word report and the 17 sub-park diagnoses (PDF too where LibreOffice is "
                        "installed): the default; kept for scripts that pass it")
    p.add_argument("--no-docx", action="store_true", help="leave out the Word report and the diagnoses")
    add_json_flag(p)
    p.set_defaults(func=_demo)


def _headline(path: Path) -> dict[str, Any]:
    from zgc_space import indicators, ranking

    blocks = datasets.load_blocks()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the sample must be clean: any warning is a defect
        _blocks.validate_blocks(blocks, source=str(path))
    zone = _blocks.land_totals(blocks, by="subpark").loc["合计 total"]
    zone_ind = indicators.compute(blocks, by="zone")
    ranked = ranking.rank(zone_ind)
    return {
        "file": str(path),
        "blocks": len(blocks),
        "subparks": int(blocks["subpark"].nunique()),
        "crs": blocks.crs.to_string(),
        "site_area_km2": zone["site_area_km2"],
        "remaining_km2": zone["remaining_km2"],
        "nonconstruction_km2": zone["nonconstruction_km2"],
        "far": float(zone_ind["far"].iloc[0]),
        "score": ranked.score,
        "rank": ranked.rank,
        "of": ranked.of,
        "preset": ranked.preset,
    }


def _demo(args: argparse.Namespace) -> int:

    from zgc_space import accounting, demo

    out = Path(args.out)
    path = datasets.path("zgc_blocks.gpkg")
    accounted = demo.sample_accounting()
    (out / "accounting").mkdir(parents=True, exist_ok=True)
    layers = demo.sample_layers()
    accounting.write(accounted, out / "accounting" / "accounted.gpkg",
                     inputs=list(layers.values()), parameters={"as_of": demo.SAMPLE_AS_OF})
    check = demo.accounting_check(accounted)
    conflicts = accounted.conflicts["kind"].value_counts().sort_index()
    summary: dict[str, Any] = {"accounting": {
        "out": str((out / "accounting" / "accounted.gpkg").resolve()),
        "pieces": len(accounted.pieces),
        "conflicts": {str(k): int(v) for k, v in conflicts.items()},
        "missing": list(accounted.missing),
        "max_block_rel_diff": float(check["max_block_rel_diff"].max()),
        "zone_km2": check["accounted_km2"].round(3).to_dict(),
    }}
    summary.update(_headline(path))

    documents = not args.no_docx
    index = demo.demo_pack(out / "hearing_pack", png=not args.no_png, documents=documents)
    tables = index.parent / "tables"
    compared = pd.read_csv(tables / "proposals_comparison.csv", encoding="utf-8-sig")
    optimum = pd.read_csv(tables / "optimisation_summary.csv", encoding="utf-8-sig").set_index("key")["value"]
    dynamic = pd.read_csv(tables / "dynamic_zone.csv", encoding="utf-8-sig")
    summary["hearing_pack"] = str(index.resolve())
    if documents:
        summary["word_report"] = str((index.parent / "report.docx").resolve())
        summary["diagnoses"] = sorted(p.name for p in (index.parent / "diagnoses").glob("*.docx"))
    summary["proposals"] = compared[["proposal_id", "status", "score_change", "rank", "rank_change", "far_change",
                                     "n_violations"]]
    summary["optimisation"] = optimum.to_dict()
    summary["dynamic"] = dynamic[["year", "members", "far", "score", "rank", "warnings", "exits", "admissions",
                                  "simulated"]]
    if args.json:
        emit_json(summary)
        return 0
    acc = summary["accounting"]
    land = acc["zone_km2"]
    print("Land accounting from the source layers (sample_data/sources, as of "
          f"{demo.SAMPLE_AS_OF}): {acc['pieces']:,} pieces")
    print(f"  built land A {land['built_m2']:.2f} km², remaining developable B "
          f"{land['ready_m2'] + land['unready_m2']:.2f} km², non-construction C {land['nonconstruction_m2']:.2f} km²; "
          f"every block within {100 * acc['max_block_rel_diff']:.2f} % of the block table")
    print("  conflicts: " + ", ".join(f"{k} {v}" for k, v in acc["conflicts"].items())
          + f"; not derivable from the layers: {', '.join(acc['missing']) or 'none'}")
    print(f"  land account layer: {acc['out']}")
    print(f"Sample: {path}")
    print(f"  {summary['blocks']} blocks in {summary['subparks']} sub-parks, {summary['crs']}, valid")
    print(f"  total area {summary['site_area_km2']:.1f} km², remaining developable land "
          f"{summary['remaining_km2']:.1f} km², planned non-construction {summary['nonconstruction_km2']:.1f} km²")
    print(f"  comprehensive FAR {summary['far']:.3f}")
    print(f"  land-use intensity score {summary['score']:.2f} ({summary['preset']}), "
          f"rank {summary['rank']} of {summary['of']} 产城融合型 zones (synthetic peers)")
    print("Example proposals compared against the baseline:")
    for row in compared.itertuples():
        note = f", {int(row.n_violations)} constraint violation(s)" if row.n_violations else ""
        print(f"  {row.proposal_id:34s} score {row.score_change:+.3f}  rank {row.rank - row.rank_change} → "
              f"{row.rank}  FAR {row.far_change:+.4f}{note}")
    print(f"Optimisation ({optimum['objective']}, {optimum['status']}, gap {float(optimum['gap']):.2g}): "
          f"score {float(optimum['baseline']):.2f} → {float(optimum['optimised']):.2f}")
    print("Dynamic adjustment of the policy zones (simulated years marked *):")
    for row in dynamic.itertuples():
        star = "*" if row.simulated else " "
        print(f"  {row.year}{star} {row.members:3d} blocks  FAR {row.far:.3f}  score {row.score:.2f}  "
              f"warnings {row.warnings}  exits {row.exits}  admissions {row.admissions}")
    if documents:
        pdf = " (and PDF)" if (index.parent / "report.pdf").is_file() else ""
        print(f"Word report{pdf}: {summary['word_report']}")
        print(f"  {len(summary['diagnoses'])} sub-park diagnoses (一分园一诊断书){pdf} in "
              f"{(index.parent / 'diagnoses').resolve()}")
    print("Hearing pack (opens offline):")
    print(index.resolve())
    return 0
