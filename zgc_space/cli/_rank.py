"""Subcommand ``rank``: composite score, national rank among peers, and the gap to a target rank."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from zgc_space import evaluation, labels, ranking
from zgc_space.cli._common import add_json_flag, collecting_notes, emit_json, lang_of, print_table, read_checked


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``rank``."""
    p = sub.add_parser(
        "rank", help="composite score (TD/T 1029) of the whole zone, its rank among peers, gap to a target rank"
    )
    p.add_argument("file", help="block file (GeoPackage, GeoJSON, Shapefile, GeoParquet)")
    p.add_argument("--layer", help="layer name in a multi-layer file")
    p.add_argument("--peers", help="ranking table CSV (default: the synthetic 产城融合型 peers of sample_data)")
    p.add_argument("--target-rank", type=_rank_arg, help="also show what it takes to reach this rank")
    p.add_argument("--preset", default="cic_default", help="preset name or YAML file (default: cic_default)")
    p.add_argument("--missing", choices=evaluation.MISSING_POLICIES, default="refuse",
                   help="blank block values in the score's inputs: refuse (default), drop-indicator (re-normalise "
                        "its weight; both ranks are printed) or drop-blocks")
    p.add_argument("--uncertainty-pct", type=float, default=1.0,
                   help="input uncertainty of the rank interval, in %% on floor area, tax, population and "
                        "footprint (default 1)")
    p.add_argument("--zh", action="store_true", help="Chinese sentences, names and units on the terminal")
    add_json_flag(p)
    p.set_defaults(func=_run)


def _rank_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"indicator": k, **v} for k, v in frame.to_dict(orient="index").items()]


def _run(args: argparse.Namespace) -> int:
    with collecting_notes() as notes:
        blocks = read_checked(args, args.file, layer=args.layer)
        preset = evaluation.load_preset(args.preset)
        scored = evaluation.score_blocks(blocks, preset=preset, missing=args.missing)
        zone = scored.attrs["indicators"]
        contrib = evaluation.contributions(zone, preset=preset)
        result = ranking.rank_blocks(blocks, peers=args.peers, preset=preset, missing=args.missing,
                                     uncertainty_pct=args.uncertainty_pct)
        other = None
        if len(scored.attrs["missing_inputs"]) and args.missing != "refuse":
            flip = "drop-blocks" if args.missing == "drop-indicator" else "drop-indicator"
            other = (flip, ranking.rank_blocks(blocks, peers=args.peers, preset=preset, missing=flip,
                                               uncertainty_pct=args.uncertainty_pct))
        gap = (ranking.gap_to_rank(zone, args.target_rank, peers=args.peers, preset=preset)
               if args.target_rank else None)
    ids = list(preset.leaf_weights())
    row = scored.iloc[0]
    peers_label = args.peers or str(ranking.sample_peers_path())
    payload: dict[str, Any] = {
        "file": args.file,
        "preset": preset.name,
        "preset_version": preset.version,
        "zone_type": evaluation.zone_type(zone.iloc[0]) if "residential_share_pct" in zone else None,
        "peers": peers_label,
        "peers_synthetic": args.peers is None,
        "score": result.score,
        "rank": result.rank,
        "of": result.of,
        "percentile": result.percentile,
        "ties": result.ties,
        "points_to_next_up": result.points_to_next_up,
        "points_to_next_down": result.points_to_next_down,
        "rank_interval": {"best": result.rank_best, "worst": result.rank_worst,
                          "uncertainty_pct": result.uncertainty_pct, "text": result.text()},
        "missing": {"policy": args.missing, "inputs": scored.attrs["missing_inputs"],
                    "dropped_blocks": scored.attrs["dropped_blocks"],
                    "other_policy": None if other is None else {"policy": other[0], "score": other[1].score,
                                                                 "rank": other[1].rank, "text": other[1].text()}},
        "sub_scores": {c.removeprefix("score_"): row[c] for c in scored.columns if c.startswith("score_")},
        "indicators": {i: zone.iloc[0].get(i) for i in ids},
        "standardised": {i: row[f"s_{i}"] for i in ids},
        "contributions": {i: contrib.iloc[0][i] for i in ids},
        "notes": notes,
    }
    if gap is not None:
        payload["gap"] = {
            "target_rank": gap.target_rank, "target_score": gap.target_score, "method": gap.method,
            "plan_score": gap.plan_score, "plan_rank": gap.plan_rank, "plan_cost_pct": gap.plan_cost_pct,
            "single": _records(gap.single), "plan": _records(gap.plan),
        }
    if args.json:
        emit_json(payload)
        return 0
    for note in notes:
        print(f"note: {note}")
    _print(args, result, other, preset, pd.DataFrame({
        "value": [zone.iloc[0].get(i) for i in ids],
        "ideal": [preset.indicators[i].ideal for i in ids],
        "standardised": [row[f"s_{i}"] for i in ids],
        "points": [contrib.iloc[0][i] for i in ids],
    }, index=ids), gap)
    return 0


def _print(args: argparse.Namespace, result: Any, other: Any, preset: Any, table: pd.DataFrame, gap: Any) -> None:
    """Print the rank, its margin, the indicator table and the gap, in English or (``--zh``) Chinese."""
    lang = lang_of(args)

    def t(zh: str, en: str) -> str:
        return labels.pick(zh, en, lang)

    kind = t("（模拟同类开发区）", " (synthetic peers)") if args.peers is None else ""
    print(t(f"{args.file}：集约度分值 {result.score:.2f}（{labels.term(preset.name, 'zh')}，版本 {preset.version}）；"
            f"全国排名{result.text('zh')}{kind}；高于 {result.percentile:.1f}% 的同类开发区",
            f"{args.file}: score {result.score:.2f} under {preset.name} {preset.version}; "
            f"rank {result.text()}{kind}; beats {result.percentile:.1f} % of the others"))
    up = "-" if result.points_to_next_up is None else f"+{result.points_to_next_up:.2f}"
    down = "-" if result.points_to_next_down is None else f"−{result.points_to_next_down:.2f}"
    print(t(f"升一名需加 {up.lstrip('+')} 分；再失 {down.lstrip('−')} 分即降一名",
            f"points to the next rank up {up}, down {down}"))
    if other is not None:
        print(t(f"缺失数据：按“{labels.term(args.missing, 'zh')}”排名{result.text('zh')}；"
                f"按“{labels.term(other[0], 'zh')}”排名{other[1].text('zh')}（分值 {other[1].score:.2f}）",
                f"missing data: rank {result.text()} with missing={args.missing}; "
                f"{other[1].text()} with missing={other[0]} (score {other[1].score:.2f})"))
    print_table(table.rename(columns={"points": "contribution"}) if args.zh else table, lang=lang)
    if gap is None:
        return
    print(t(f"\n进入前 {gap.target_rank} 名（分值 {gap.target_score:.2f}）需要：",
            f"\nto reach rank {gap.target_rank} (score {gap.target_score:.2f}):"))
    print(t("单项指标各自需要：", "each indicator alone:"))
    print_table(gap.single[["current", "required", "change_pct", "reachable"]], lang=lang)
    method = str(gap.method)
    if args.zh:  # "lp", or "single:<indicator>" when one indicator alone is cheapest
        method = (f"仅调整{labels.column_name(method.split(':', 1)[1], 'zh')}" if method.startswith("single:")
                  else labels.term(method, "zh"))
    print(t(f"最省力组合（{method}，总变化 {gap.plan_cost_pct:.1f}%，分值 {gap.plan_score:.2f}，"
            f"第 {gap.plan_rank} 位）：",
            f"least-effort plan ({gap.method}, total change {gap.plan_cost_pct:.1f} %, "
            f"score {gap.plan_score:.2f}, rank {gap.plan_rank}):"))
    print_table(gap.plan.loc[gap.plan["effort_pct"] > 0, ["current", "new", "change_pct"]], lang=lang)
