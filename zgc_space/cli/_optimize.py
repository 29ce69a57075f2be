"""Subcommands ``optimize``, ``pareto``, ``consolidate`` and ``dynamic``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import ValidationError

from zgc_space import dynamic, io, labels, optimize
from zgc_space.cli._common import (
    add_json_flag,
    emit_json,
    lang_of,
    noted,
    print_table,
    read_checked,
    read_layer,
    write_table,
)
from zgc_space.cli._options import POINTS_RANGE, SIMULATE_RANGE, TIME_LIMIT_S, finite_float, identifier, int_in
from zgc_space.errors import OptimizationError, UsageError
from zgc_space.io import read_yaml
from zgc_space.scenarios import consolidate
from zgc_space.scenarios.proposal import Elasticity, Proposal, dump_proposal


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``optimize``, ``pareto``, ``consolidate`` and ``dynamic``."""
    p = sub.add_parser("optimize", help="search the best release/admit/renew adjustment; writes a proposal")
    _common_search(p)
    p.add_argument("--objective", default="score",
                   help="score (default), an indicator id (far, tax_10k_cny_per_ha, revenue_10k_cny_per_ha, ...) "
                        "or released_area_m2 / admitted_area_m2 / total_area_m2 / changes")
    p.add_argument("--sense", choices=("max", "min"), help="default: max for score and positive indicators")
    p.add_argument("--out", help="write the proposal (YAML) here")
    p.add_argument("--id", type=identifier, default="OPT", help="id of the proposal written (default OPT)")
    add_json_flag(p)
    p.set_defaults(func=_run_optimize)

    p = sub.add_parser("pareto", help="trade-off front between two objectives (epsilon-constraint)")
    _common_search(p)
    p.add_argument("--objectives", default="score,released_area_m2",
                   help="two objectives joined by a comma (default: score,released_area_m2)")
    p.add_argument("--points", type=int_in(*POINTS_RANGE), default=20, help="number of points (default 20; 2-200)")
    p.add_argument("--out", help="write the front table to this .csv or .xlsx file")
    p.add_argument("--proposals-dir", help="write each point's proposal (YAML) into this folder")
    add_json_flag(p)
    p.set_defaults(func=_run_pareto)

    p = sub.add_parser("consolidate", help="groups of small neighbouring blocks as merge proposals (小散弱)")
    p.add_argument("blocks", help="block file")
    p.add_argument("--max-gap-m", type=finite_float(low=0), default=200.0, help="neighbour distance (default 200 m)")
    p.add_argument("--small-km2", type=finite_float(low=0, strict_low=True), default=1.0,
                   help="only blocks below this area (default 1 km²)")
    p.add_argument("--max-group-km2", type=finite_float(low=0, strict_low=True), default=5.0,
                   help="largest group area (default 5 km²)")
    p.add_argument("--out", help="write the merge proposal (YAML) here")
    p.add_argument("--zh", action="store_true", help="Chinese names, terms and sentences on the terminal")
    add_json_flag(p)
    p.set_defaults(func=_run_consolidate)

    p = sub.add_parser("dynamic", help="dynamic adjustment rules (优胜劣汰) on a panel: statuses, simulation")
    p.add_argument("panel", help="panel file: one row per block and year (column year)")
    p.add_argument("--rules", required=True, help="rules YAML (see zgc_space/presets/dynamic_rules_default.yaml)")
    p.add_argument("--simulate", type=int_in(*SIMULATE_RANGE), metavar="YEARS",
                   help="also simulate this many years ahead (1-100)")
    p.add_argument("--trend", choices=("panel", "flat"), default="panel",
                   help="simulated years: continue each unit's panel trend (default) or keep it flat")
    p.add_argument("--out", help="write the status table to this .csv or .xlsx file")
    p.add_argument("--zh", action="store_true", help="Chinese names, terms and sentences on the terminal")
    add_json_flag(p)
    p.set_defaults(func=_run_dynamic)


def _common_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("blocks", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--candidates", help="candidate areas file (with candidate_id)")
    p.add_argument("--constraints", help="YAML file with constraint keys (and an optional renewal: section)")
    p.add_argument("--max-changes", type=int_in(0, 100_000), help="at most this many releases + admissions + renewals")
    p.add_argument("--must-keep", help="block ids that may not be released, joined by commas")
    p.add_argument("--area-cap-m2", type=finite_float(low=0, strict_low=True),
                   help="maximum total site area (default: the baseline total)")
    p.add_argument("--min-area-m2", type=finite_float(low=0),
                   help="minimum total site area (default: baseline − 2 %%; 0 lets the zone shrink, with a warning)")
    p.add_argument("--max-distance-m", type=finite_float(low=0),
                   help="admitted land within this distance of a kept block")
    p.add_argument("--renew-far-step", type=finite_float(low=0, strict_low=True, high=50),
                   help="allow renewals raising FAR by this step")
    p.add_argument("--renew-elasticity", type=finite_float(low=0, high=10), default=0.0,
                   help="revenue and tax elasticity to floor area for renewals (default 0)")
    p.add_argument("--renewal-budget", type=finite_float(low=0), help="renewal budget (万元)")
    p.add_argument("--preset", default="cic_default", help="evaluation preset (default cic_default)")
    p.add_argument("--time-limit", type=finite_float(low=0, strict_low=True, high=TIME_LIMIT_S), default=60.0,
                   help="seconds per MILP (default 60)")
    p.add_argument("--zh", action="store_true", help="Chinese names, terms and sentences on the terminal")


def _settings(args: argparse.Namespace) -> tuple[optimize.SearchConstraints, optimize.Renewal | None]:
    data: dict[str, Any] = {}
    if args.constraints:
        loaded, _ = read_yaml(args.constraints, what="constraints file", error=OptimizationError)
        loaded = {} if loaded is None else loaded
        if not isinstance(loaded, dict):
            raise OptimizationError(f"constraints file {args.constraints} must be a YAML mapping")
        data = dict(loaded)
    renewal_data = data.pop("renewal", None)
    flags = {"max_changes": args.max_changes, "area_cap_m2": args.area_cap_m2, "min_area_m2": args.min_area_m2,
             "max_distance_m": args.max_distance_m, "renewal_budget_10k_cny": args.renewal_budget}
    data.update({k: v for k, v in flags.items() if v is not None})
    if args.must_keep:
        data["must_keep"] = [s.strip() for s in args.must_keep.split(",") if s.strip()]
    try:
        cons = optimize.SearchConstraints(**data)
        renewal = None
        if args.renew_far_step is not None:
            e = args.renew_elasticity
            elasticity = Elasticity(revenue=e, tax=e, employees=0.0)
            renewal = optimize.Renewal(far_step=args.renew_far_step, elasticity=elasticity)
        elif renewal_data is not None:
            if not isinstance(renewal_data, dict):
                raise TypeError(f"renewal must be a mapping of keys (far_step, ...), got {type(renewal_data).__name__}")
            renewal = optimize.Renewal(**renewal_data)
    except (TypeError, ValueError) as exc:
        where = f" in {args.constraints}" if args.constraints else ""
        detail = _pydantic_text(exc) if isinstance(exc, ValidationError) else str(exc)
        raise OptimizationError(f"invalid constraints{where} (or options): {detail}; see zgc-space optimize --help "
                                "for the keys and their ranges") from exc
    return cons, renewal


def _pydantic_text(exc: ValidationError) -> str:
    """One line per pydantic error: ``field: message``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<top level>'}: {e['msg']}"
                     for e in exc.errors(include_url=False))


def _inputs(args: argparse.Namespace) -> list[str]:
    """Return the files this command reads (never overwritten)."""
    names = ("blocks", "candidates", "constraints")
    return [str(v) for v in (getattr(args, n, None) for n in names) if v]


def _refuse(targets: list[Path], args: argparse.Namespace) -> None:
    """Raise OverwriteInputError if a target is one of the command's input files."""
    io.refuse_inputs(targets, _inputs(args))


def _write_proposals(pairs: list[tuple[Proposal, Path]], args: argparse.Namespace) -> None:
    """Write proposals as YAML: inputs refused first, each file written atomically."""
    _refuse([path for _, path in pairs], args)
    for proposal, path in pairs:
        with io.atomic_files([path]) as (tmp,):
            tmp.write_text(dump_proposal(proposal), encoding="utf-8")


def _progress() -> optimize.Progress:
    """Print progress lines on stderr once a run has taken more than 2 s (quick runs stay quiet)."""
    t0 = time.perf_counter()

    def say(text: str) -> None:
        if time.perf_counter() - t0 > 2.0:
            print(text, file=sys.stderr, flush=True)

    return say


def _read(path: str, args: argparse.Namespace) -> gpd.GeoDataFrame:
    frame: gpd.GeoDataFrame = read_checked(args, path)
    return frame


def _read_any(path: str, option: str = "file") -> gpd.GeoDataFrame:
    frame: gpd.GeoDataFrame = read_layer(path, option)
    return frame


def _run_optimize(args: argparse.Namespace) -> int:
    if args.out:
        _refuse([Path(args.out)], args)
    cons, renewal = _settings(args)
    blocks = _read(args.blocks, args)
    cands = _read_any(args.candidates, "--candidates") if args.candidates else None
    res, notes = noted(optimize.search, blocks, cands, objective=args.objective, sense=args.sense,
                       constraints=cons, renewal=renewal, preset=args.preset, proposal_id=args.id,
                       time_limit_s=args.time_limit, progress=_progress())
    if args.out:
        _write_proposals([(res.proposal, Path(args.out))], args)
    if args.json:
        payload = res.to_dict()
        payload["out"] = args.out
        payload["notes"] = notes
        emit_json(payload)
        return 0
    for note in notes:
        print(f"warning: {note}")
    cols = [c for c in ("score", "rank", "far", "tax_10k_cny_per_ha", "population_per_ha", "site_area_m2")
            if c in res.evaluation.columns]
    if args.zh:
        print("约束：" + "；".join(res.constraints_text(lang="zh")))
        print_table(optimize.summary_table(res, lang="zh"), lang="zh")
        for kind in ("release", "admit", "renew"):
            ids = res.selection[kind]
            print(f"  {labels.term(kind, 'zh')} {len(ids)} 个：{'、'.join(ids) or '无'}")
        print(f"求解用时 {res.seconds:.2f} 秒")
        print_table(res.evaluation[cols].T, lang="zh")
    else:
        print("constraints used: " + "; ".join(res.constraints_text()))
        print(f"{res.sense} {res.objective}: {res.baseline_value:,.4f} → {res.value:,.4f} "
              f"({res.status}, gap {res.gap:.2g}, {res.method}, {res.seconds:.2f} s)")
        print(f"  released {len(res.selection['release'])}: {', '.join(res.selection['release']) or '-'}")
        print(f"  admitted {len(res.selection['admit'])}: {', '.join(res.selection['admit']) or '-'}")
        print(f"  renewed  {len(res.selection['renew'])}: {', '.join(res.selection['renew']) or '-'}")
        print_table(res.evaluation[cols].T)
    if args.out:
        print(labels.pick(f"方案已写入 {args.out}", f"proposal written to {args.out}", lang_of(args)))
    else:
        print(dump_proposal(res.proposal), end="")
    return 0


def _run_pareto(args: argparse.Namespace) -> int:
    cons, renewal = _settings(args)
    objs = [s.strip() for s in args.objectives.split(",") if s.strip()]
    if len(objs) != 2:
        raise UsageError(f"--objectives needs exactly two names joined by a comma, got {args.objectives!r}")
    if args.out:
        _refuse([Path(args.out)], args)
    blocks = _read(args.blocks, args)
    cands = _read_any(args.candidates, "--candidates") if args.candidates else None
    front, notes = noted(optimize.pareto, blocks, cands, objectives=(objs[0], objs[1]), points=args.points,
                         constraints=cons, renewal=renewal, preset=args.preset, time_limit_s=args.time_limit,
                         progress=_progress())
    used = optimize.constraints_text(cons, front.area_bounds)
    folder = Path(args.proposals_dir) if args.proposals_dir else None
    pairs = [(p, folder / f"{p.id}.yaml") for p in front.proposals] if folder is not None else []
    _refuse([path for _, path in pairs], args)  # before anything is written
    if args.out:
        write_table(front.table, args.out, inputs=_inputs(args), command=args.command, stem="pareto")
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        _write_proposals(pairs, args)
    if args.json:
        emit_json({"objectives": list(front.objectives), "senses": list(front.senses), "front": front.table,
                   "seconds": round(front.seconds, 3), "out": args.out, "proposals_dir": args.proposals_dir,
                   "area_bounds": None if front.area_bounds is None else dict(front.area_bounds.__dict__),
                   "constraints_used": used, "notes": notes})
        return 0
    for note in notes:
        print(f"warning: {note}")
    if args.zh:
        names = [f"{labels.term(sense, 'zh')}{labels.column_name(o, 'zh')}" for sense, o in zip(front.senses, objs,
                                                                                                 strict=True)]
        print("约束：" + "；".join(optimize.constraints_text(cons, front.area_bounds, lang="zh")))
        print(f"帕累托前沿：{names[0]} 与 {names[1]}（{len(front.table)} 个点，{front.seconds:.1f} 秒）")
    else:
        print("constraints used: " + "; ".join(used))
        print(f"Pareto front: {front.senses[0]} {objs[0]} vs {front.senses[1]} {objs[1]} "
              f"({len(front.table)} points, {front.seconds:.1f} s)")
    print_table(front.table.drop(columns=["seconds"]), lang=lang_of(args))
    return 0


def _run_consolidate(args: argparse.Namespace) -> int:
    if args.out:
        _refuse([Path(args.out)], args)
    res = consolidate.consolidate(_read(args.blocks, args), max_gap_m=args.max_gap_m, small_km2=args.small_km2,
                                  max_group_km2=args.max_group_km2)
    if args.out:
        _write_proposals([(res.proposal, Path(args.out))], args)
    if args.json:
        emit_json({"groups": res.groups, "fragmentation": res.fragmentation, "out": args.out})
        return 0
    lang = lang_of(args)
    n_small = int(res.groups["block_count"].sum())
    print(labels.pick(f"{len(res.groups)} 组相邻小区块，共 {n_small} 个区块",
                      f"{len(res.groups)} groups of {n_small} small blocks", lang))
    if len(res.groups):
        sep = labels.pick("、", ", ", lang)
        print_table(res.groups.assign(blocks=res.groups["blocks"].map(sep.join)).set_index("group"), lang=lang)
    cols = ["block_count_before", "block_count_after", "small_block_share_pct_before", "small_block_share_pct_after"]
    print_table(res.fragmentation[cols], lang=lang)
    if args.out:
        print(labels.pick(f"方案已写入 {args.out}", f"proposal written to {args.out}", lang))
    return 0


def _run_dynamic(args: argparse.Namespace) -> int:
    if args.out:
        io.refuse_inputs([Path(args.out)], [args.panel, args.rules])
    rules = dynamic.load_rules(args.rules)
    panel = _read_any(args.panel, "panel")
    panel.attrs["zgc_source"] = args.panel  # named in the panel's error messages
    payload: dict[str, Any] = {"rules": rules.name, "unit": rules.unit}
    if args.simulate is not None:
        sim = dynamic.simulate(panel, rules, years=args.simulate, assumptions={"trend": args.trend})
        status, zone = sim.status, sim.zone
        payload["zone"] = zone
    else:
        status, zone = dynamic.evaluate_panel(panel, rules), None
    if args.out:
        write_table(status, args.out, inputs=[args.panel, args.rules], command=args.command, stem="dynamic_statuses")
    counts = status.groupby("year")["status"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=[s for s in dynamic.STATUSES if s in counts.columns])
    if args.json:
        payload["status"] = status
        payload["counts"] = counts
        payload["out"] = args.out
        emit_json(payload)
        return 0
    lang = lang_of(args)
    print(labels.pick(f"规则 {rules.name}：评价单元 {labels.column_name(rules.unit, 'zh')}，"
                      f"评价方案 {labels.term(rules.preset, 'zh')}",
                      f"Rules {rules.name!r}: unit {rules.unit}, preset {rules.preset}", lang))
    if lang != "en":
        counts = counts.rename(columns=lambda c: labels.term(str(c), lang))
    print_table(counts, float_format="{:,.0f}", lang=lang)
    changes = status[status["status"].isin(["exit", "admitted"])]
    if len(changes):
        print(labels.pick("\n退出与新纳入：", "\nExits and admissions:", lang))
        with pd.option_context("display.max_colwidth", 120):
            print_table(changes[[rules.unit, "year", "status", "score", "reason"]].set_index([rules.unit, "year"]),
                        lang=lang)
    if zone is not None:
        print(labels.pick("\n实行动态调整与保持首年成员的政策区对比：",
                          "\nPolicy zones with the mechanism vs the first year's members kept:", lang))
        print_table(zone, transpose=True, lang=lang)
    return 0

