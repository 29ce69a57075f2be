"""``zgc-space demo``: the main job on the bundled sample data."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from zgc_space import blocks as _blocks
from zgc_space import datasets
from zgc_space.cli._common import add_json_flag, emit_json


def register(sub: argparse._SubParsersAction) -> None:
    """Register ``demo``."""
    p = sub.add_parser("demo", help="run the main job on the bundled sample data")
    p.add_argument("--out", default="out/demo", help="folder for the demo's outputs (default: out/demo)")
    add_json_flag(p)
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = datasets.path("zgc_blocks.gpkg")
    blocks = datasets.load_blocks()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _blocks.validate_blocks(blocks, source=str(path))
    totals = _blocks.land_totals(blocks, by="subpark")
    zone = totals.loc["合计 total"]
    from zgc_space import benchmark, indicators

    zone_ind = indicators.compute(blocks, by="zone")
    ranked = benchmark.rank(zone_ind)
    summary = {
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
    from zgc_space import batch

    compared = batch.run(
        batch.sample_proposals(), path, candidates=datasets.path("candidates.gpkg"), out_dir=out / "proposals",
    )
    summary["proposals"] = compared[["proposal_id", "status", "score_change", "rank", "rank_change", "far_change",
                                     "n_violations"]]
    if args.json:
        emit_json(summary)
        return 0
    print(f"Sample: {path}")
    print(f"  {summary['blocks']} blocks in {summary['subparks']} sub-parks, {summary['crs']}, valid")
    print(f"  total area {summary['site_area_km2']:.1f} km², remaining developable land "
          f"{summary['remaining_km2']:.1f} km², planned non-construction {summary['nonconstruction_km2']:.1f} km²")
    print(f"  comprehensive FAR {summary['far']:.3f}")
    print(f"  land-use intensity score {summary['score']:.2f} ({summary['preset']}), "
          f"rank {summary['rank']} of {summary['of']} 产城融合型 zones (synthetic peers)")
    print(f"Example proposals compared against the baseline ({out / 'proposals'}):")
    for row in compared.itertuples():
        note = f", {int(row.n_violations)} constraint violation(s)" if row.n_violations else ""
        print(f"  {row.proposal_id:34s} score {row.score_change:+.3f}  rank {row.rank - row.rank_change} → {row.rank}  "
              f"FAR {row.far_change:+.4f}{note}")
    return 0
