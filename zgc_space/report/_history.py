"""A sub-park's dynamic-adjustment history (优胜劣汰), told from a simulation's statuses.

Private: part of :func:`zgc_space.report.diagnose`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from zgc_space import labels
from zgc_space.errors import ParameterError
from zgc_space.report._document import Document, Heading, Para, Table
from zgc_space.report._facts import Facts

__all__ = ["history_section", "statuses_of"]


def statuses_of(dynamic: Any) -> pd.DataFrame | None:
    """Return the status table of a simulation or a status table (None when none is given)."""
    if dynamic is None:
        return None
    if isinstance(dynamic, pd.DataFrame):
        return dynamic
    for attr in ("status", "statuses"):
        if isinstance(getattr(dynamic, attr, None), pd.DataFrame):
            return pd.DataFrame(getattr(dynamic, attr))
    raise ParameterError("dynamic must be a table (block_id, year, status) or a zgc_space.dynamic.Simulation, "
                         f"got {type(dynamic).__name__}")


def history_section(doc: Document, facts: Facts, own: pd.DataFrame, statuses: pd.DataFrame | None, t: Any) -> None:
    """Add the sub-park's dynamic-adjustment history: its blocks' statuses year by year."""
    doc.add(Heading(t("六、动态调整记录", "6. Dynamic-adjustment history")))
    if statuses is None or not {"block_id", "year", "status"} <= set(statuses.columns):
        doc.add(Para(t("未提供动态调整模拟结果。", "No dynamic-adjustment simulation was given.")))
        return
    mine = statuses[statuses["block_id"].astype(str).isin(own["block_id"].astype(str))]
    if not len(mine):
        doc.add(Para(t("本园区块不在动态调整模拟范围内。", "The simulation holds none of the sub-park's blocks.")))
        return
    rows: list[tuple[str, ...]] = [(t("年份", "year"), *[labels.term(s, doc.lang) for s in
                                                       ("normal", "warning", "exit", "admitted", "outside")])]
    years = sorted(int(str(y)) for y in pd.unique(mine["year"]))
    never = not mine["status"].astype(str).isin(["normal", "warning", "exit", "admitted"]).any()
    if never:
        first = facts.add("first_year", t("首年", "first year"), str(years[0]))
        last = facts.add("last_year", t("末年", "last year"), str(years[-1]))
        n_own = facts.add("dynamic_blocks", t("模拟中的本园区块数", "blocks in the simulation"),
                          int(mine["block_id"].nunique()))
        doc.add(Para(t(f"{first}—{last} 年，本园 {n_own} 个区块均不是政策区成员，也没有区块新纳入。",
                       f"{first}-{last}: none of the sub-park's {n_own} blocks is a member of the policy zones, "
                       "and none is admitted."), facts=("first_year", "last_year", "dynamic_blocks")))
    for year, group in mine.groupby("year", sort=True):
        counts = group["status"].astype(str).value_counts()
        y = int(str(year))
        simulated = bool(group["simulated"].any()) if "simulated" in group.columns else False
        rows.append((f"{y}" + (t("（模拟）", " (simulated)") if simulated else ""),
                     *[str(int(counts.get(s, 0))) for s in ("normal", "warning", "exit", "admitted", "outside")]))
        if never:
            continue
        members = int(counts.get("normal", 0) + counts.get("warning", 0) + counts.get("exit", 0))
        keys: tuple[str, ...] = (f"year_{y}", f"members_{y}")
        y_txt = facts.add(keys[0], t("年份", "year"), str(y))
        m_txt = facts.add(keys[1], t(f"{y}年政策区成员区块数", f"members {y}"), members)
        text = t(f"{y_txt} 年{'（模拟）' if simulated else ''}：{m_txt} 个区块为政策区成员",
                 f"{y_txt}{' (simulated)' if simulated else ''}: {m_txt} member blocks")
        quiet = True
        for status, zh, en in (("warning", "预警", "warned"), ("exit", "退出", "exited"),
                               ("admitted", "新纳入", "admitted")):
            n = int(counts.get(status, 0))
            if not n:
                continue
            quiet = False
            ids = sorted(group.loc[group["status"] == status, "block_id"].astype(str))
            n_txt = facts.add(f"{status}_{y}", t(f"{y}年{zh}区块数", f"{en} {y}"), n)
            keys += (f"{status}_{y}",)
            text += t(f"，{n_txt} 个{zh}（{'、'.join(ids)}）", f", {n_txt} {en} ({', '.join(ids)})")
        if quiet:
            text += t("，无预警、退出或新纳入", ", none warned, exited or admitted")
        doc.add(Para(text + t("。", "."), facts=keys, style="bullet"))
    doc.add(Table(rows=tuple(rows), caption=t("表 3 本园区块的动态调整状态（区块数）",
                                              "Table 3 dynamic-adjustment statuses of the blocks (counts)"),
                  numeric=(False, True, True, True, True, True)))
