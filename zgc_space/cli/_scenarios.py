"""Subcommands on adjustment proposals: ``apply`` and ``compare``."""

from __future__ import annotations

import argparse
from typing import Literal

from zgc_space import io, labels, scenarios
from zgc_space.cli._common import (
    add_json_flag,
    collecting_notes,
    emit_json,
    lang_of,
    print_table,
    read_checked,
    write_table,
)
from zgc_space.cli._options import JOBS_RANGE, SCHEDULER_TIMEOUT_S, finite_float, int_in
from zgc_space.scenarios import batch
from zgc_space.scenarios.proposal import read_proposal

_SHOWN = ("proposal_id", "status", "score", "score_change", "rank", "rank_change",
          "rank_change_significant", "far_change",
          "tax_10k_cny_per_ha_change", "site_area_m2_change", "n_violations")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``apply`` and ``compare``."""
    p = sub.add_parser("apply", help="apply one proposal to a baseline and write the adjusted blocks")
    p.add_argument("proposal", help="proposal YAML file")
    p.add_argument("--baseline", required=True, help="baseline block file")
    p.add_argument("--out", required=True, help="output block file (.gpkg, .parquet, .geojson)")
    p.add_argument("--candidates", help="candidate areas file (for admit: candidate)")
    p.add_argument("--changes", help="also write the per-block change log (.csv or .xlsx)")
    p.add_argument("--zh", action="store_true", help="Chinese names, operations and messages on the terminal "
                   "(and in a --changes CSV)")
    add_json_flag(p)
    p.set_defaults(func=_apply)

    p = sub.add_parser(
        "compare", help="evaluate proposals against a baseline; write results and a manifest",
        epilog="exit codes: 0 at least one proposal was evaluated (others may have errors or violations; "
        "see status); 1 every proposal has an error (or none was given); 2 the inputs cannot be used "
        "(baseline, candidates, output folder)",
    )
    p.add_argument("proposals", nargs="+", help="proposal YAML files or folders")
    p.add_argument("--baseline", required=True, help="baseline block file")
    p.add_argument("--out", required=True, help="output folder (results.parquet, results.csv, manifest.json)")
    p.add_argument("--candidates", help="candidate areas file (for admit: candidate)")
    p.add_argument("--jobs", type=int_in(*JOBS_RANGE), default=None, help="worker processes (or local Dask workers)")
    p.add_argument("--scheduler", help="dask.distributed scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--scheduler-timeout", type=finite_float(low=0, strict_low=True, high=SCHEDULER_TIMEOUT_S),
                   default=batch.SCHEDULER_TIMEOUT_S, metavar="SECONDS",
                   help=f"give up connecting to --scheduler after this long (default {batch.SCHEDULER_TIMEOUT_S:g} s)")
    p.add_argument("--sort-by", default="score", help="column to sort the printed table by (default: score)")
    p.add_argument("--no-resume", action="store_true", help="evaluate every proposal again")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--zh", action="store_true", help="Chinese names, statuses and messages on the terminal")
    add_json_flag(p)
    p.set_defaults(func=_compare)


def _apply(args: argparse.Namespace) -> int:
    proposal = read_proposal(args.proposal)
    with collecting_notes() as notes:
        baseline = read_checked(args, args.baseline)
        result = scenarios.apply(baseline, proposal, candidates=args.candidates)
    io.write_blocks(result.blocks, args.out, inputs=[args.baseline, args.proposal])
    if args.changes:
        write_table(result.changes, args.changes, inputs=[args.baseline, args.proposal], command=args.command,
                    stem="changes", zh=args.zh)
    if args.json:
        emit_json({
            "proposal": proposal.id,
            "out": args.out,
            "blocks": len(result.blocks),
            "feasible": result.feasible,
            "violations": [v.to_dict() for v in result.violations],
            "changes": result.changes,
            "notes": notes,
        })
    else:
        lang = lang_of(args)
        print(labels.pick(f"{proposal.id}：{len(result.changes)} 处调整，"
                          f"调整后 {len(result.blocks)} 个区块 → {args.out}",
                          f"{proposal.id}: {len(result.changes)} change(s), {len(result.blocks)} blocks → {args.out}",
                          lang))
        print_table(result.changes.drop(columns=["detail"]), lang=lang)
        for v in result.violations:
            print(labels.pick(f"违反约束：{labels.sentence(str(v), 'zh')}", f"violation: {v}", lang))
    return 0


def _compare(args: argparse.Namespace) -> int:
    executor: Literal["local", "dask"] = "dask" if args.scheduler else "local"
    read_checked(args, args.baseline)  # refused before any proposal is read or any folder made
    table = batch.run(
        args.proposals, args.baseline, out_dir=args.out, candidates=args.candidates, executor=executor,
        scheduler=args.scheduler, scheduler_timeout_s=args.scheduler_timeout,
        jobs=args.jobs, resume=not args.no_resume, progress=args.progress,
    )
    if args.sort_by in table.columns:
        asc = scenarios.lower_is_better(args.sort_by)
        table = table.sort_values(args.sort_by, ascending=asc, na_position="last", kind="mergesort")
    manifest = table.attrs["manifest"]
    if args.json:
        emit_json({
            "out": args.out,
            "counts": manifest["counts"],
            "baseline": manifest["baseline_metrics"],
            "results": table[[c for c in table.columns if c != "violations"]].assign(
                violations=table["violations"].fillna("")),
        })
        return _exit_code(manifest["counts"])
    lang = lang_of(args)
    shown = [c for c in _SHOWN if c in table.columns]
    print_table(table[shown].set_index("proposal_id"), lang=lang)
    for _, row in table[table["status"] == "error"].iterrows():
        print(labels.pick(f"无法计算：{labels.sentence(str(row['error']), 'zh')}", f"error: {row['error']}", lang))
    c = manifest["counts"]
    print(labels.pick(f"共 {c['proposals']} 个方案（新计算 {c['evaluated']} 个，沿用 {c['reused']} 个）："
                      f"符合约束 {c['ok']} 个，"
                      f"违反约束 {c['violations']} 个，无法计算 {c['error']} 个 → {args.out}",
                      f"{c['proposals']} proposals ({c['evaluated']} evaluated, {c['reused']} reused): {c['ok']} ok, "
                      f"{c['violations']} with violations, {c['error']} errors → {args.out}", lang))
    return _exit_code(c)


def _exit_code(counts: dict[str, int]) -> int:
    """Return 1 when no proposal could be evaluated (all errors, or none given), else 0."""
    return 0 if counts["ok"] + counts["violations"] else 1
