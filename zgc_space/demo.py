"""The main job on the bundled sample data: what ``make demo`` / ``zgc-space demo`` runs.

Each function runs one step of the demonstration on the sample (:mod:`zgc_space.datasets`): the
land accounting from the source layers (survey parcels, plan plots, supply, idle and serviced
land, buildings, enterprises) that yields the block table, the optimiser's search, the
dynamic-adjustment simulation, and the whole hearing pack that puts the indicators, the five
example proposals, the optimisation and the simulation together.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from zgc_space import accounting, datasets, dynamic, labels, optimize, report
from zgc_space.maps import Footer
from zgc_space.scenarios.proposal import Elasticity

__all__ = [
    "SAMPLE_AS_OF",
    "SAMPLE_YEARS",
    "accounting_check",
    "demo_pack",
    "sample_accounting",
    "sample_dynamic",
    "sample_rules_file",
    "sample_search",
    "sample_simulation",
]

#: The evaluation date of the sample's land accounting (records in force at the end of 2023).
SAMPLE_AS_OF = "2023-12-31"
#: The land-accounting columns the block table carries (TD/T 1029 classes A, A1, A2, B21, other B, C, D, G, H).
LAND_COLUMNS = ("built_m2", "built_residential_m2", "built_industrial_m2", "ready_m2", "unready_m2",
                "nonconstruction_m2", "supplied_m2", "idle_m2", "hightech_m2")

PathLike = str | os.PathLike[str]


def sample_layers() -> dict[str, Path]:
    """Return the sample's source layers by :func:`zgc_space.accounting.account` argument name."""
    names = {"blocks": "blocks.gpkg", "survey": "survey_dltb_2023.parquet", "plan": "plan_plots.gpkg",
             "supply": "supply.gpkg", "idle": "idle.gpkg", "serviced": "serviced.gpkg",
             "buildings": "buildings.parquet", "enterprises": "enterprises.parquet"}
    return {arg: datasets.path(f"sources/{name}") for arg, name in names.items()}


def sample_accounting() -> accounting.Accounting:
    """Account the sample's land from its source layers, as a planning bureau would.

    The survey code ``083`` of the sample is not in GB/T 21010-2017; the user table
    ``sources/user_codes.csv`` maps it (as a bureau maps its local codes).

    Examples
    --------
    >>> result = sample_accounting()
    >>> round(float(result.blocks["site_area_m2"].sum()) / 1e6), sorted(result.missing)
    (488, ['population'])
    """
    layers = sample_layers()
    return accounting.account(
        layers["blocks"], survey=layers["survey"], plan=layers["plan"], supply=layers["supply"],
        idle=layers["idle"], serviced=layers["serviced"], buildings=layers["buildings"],
        enterprises=layers["enterprises"], codes=["gbt21010_2017", datasets.path("sources/user_codes.csv")],
        as_of=SAMPLE_AS_OF,
    )


def accounting_check(result: accounting.Accounting) -> pd.DataFrame:
    """Compare the land columns the accounting found with the committed sample block table.

    One row per land column: the zone totals in km² (accounted, table) and the largest relative
    difference of any block (0 where both are 0).
    """
    got = result.blocks.set_index("block_id")
    want = datasets.load_blocks().set_index("block_id").reindex(got.index)
    rows = []
    for col in LAND_COLUMNS:
        a, b = got[col].astype(float), want[col].astype(float)
        diff = (a - b).abs()
        rel = (diff / b.abs().where(b.abs() > 0)).where(b.abs() > 0, (diff > 0).astype(float))
        rows.append({"column": col, "accounted_km2": float(a.sum()) / 1e6, "table_km2": float(b.sum()) / 1e6,
                     "max_block_rel_diff": float(rel.max())})
    return pd.DataFrame(rows).set_index("column")


def sample_search(*, max_changes: int = 10) -> optimize.SearchResult:
    """Run the demonstration search on the sample data: best score with at most ``max_changes`` changes.

    The 164 sample blocks and 20 candidate areas; the total area may neither grow nor shrink by
    more than 2 km² (released land is replaced by admitted land); renewal (FAR + 0.3, revenue
    and tax elasticity 0.8) allowed within a budget of 500,000 万元.

    Examples
    --------
    >>> res = sample_search(max_changes=4)
    >>> res.status, res.value > res.baseline_value, len(res.proposal.release) + len(res.proposal.admit) <= 4
    ('optimal', True, True)
    """
    blocks = datasets.load_blocks()
    total = float(blocks.geometry.area.sum())
    renewal = optimize.Renewal(far_step=0.3, elasticity=Elasticity(revenue=0.8, tax=0.8, employees=0.0))
    cons = optimize.SearchConstraints(max_changes=max_changes, min_area_m2=total - 2e6,
                                      renewal_budget_10k_cny=500_000.0)
    return optimize.search(blocks, datasets.load_candidates(), objective="score", renewal=renewal, constraints=cons,
                  proposal_id="SAMPLE-OPT")


def sample_simulation(*, years: int = 3) -> dynamic.Simulation:
    """Run the demonstration simulation: :data:`zgc_space.dynamic.EXAMPLE_RULES` on the sample panel, ``years`` ahead.

    Examples
    --------
    >>> sim = sample_simulation(years=1)
    >>> sim.zone.index.tolist(), int(sim.zone["exits"].sum()) > 0
    ([2021, 2022, 2023, 2024], True)
    """
    return dynamic.simulate(datasets.load_panel(), dynamic.EXAMPLE_RULES, years=years)


SAMPLE_YEARS = 2


def sample_rules_file() -> Path:
    """Return the sample's ``dynamic_rules.yaml`` (:func:`zgc_space.datasets.path`)."""
    return datasets.path("dynamic_rules.yaml")


def sample_dynamic() -> tuple[Any, Path]:
    """Simulate the sample rules on the sample panel (2021-2023 and two further years).

    The rules are the sample's ``dynamic_rules.yaml`` (returned, for the manifest's inputs), the
    same rules as :data:`zgc_space.dynamic.EXAMPLE_RULES`.
    """
    path = sample_rules_file()
    rules = dynamic.load_rules(path)
    return dynamic.simulate(datasets.load_panel(), rules, years=SAMPLE_YEARS), path


def demo_pack(out_dir: PathLike, *, png: bool = True, optimise: bool = True, lang: str = "zh",
              documents: bool = True, documents_pdf: bool | None = None,
              docx_template: PathLike | None = None) -> Path:
    """Build the full hearing pack from the bundled sample data; return the path of ``index.html``.

    Indicators and rank of the 164 sample blocks, the five example proposals
    (``sample_data/proposals``) compared, an optimisation (the best composite score with at most
    8 changes, renewals raising FAR by 0.5, total area kept within 1 km² of the baseline) and a
    dynamic-adjustment simulation of the 2021-2023 panel and two further years under the rules
    of ``sample_data/dynamic_rules.yaml`` (:data:`zgc_space.dynamic.EXAMPLE_RULES`), which the
    manifest lists among its inputs.

    Parameters
    ----------
    out_dir
        The pack's folder (see :func:`hearing_pack`).
    png
        Also print the maps as PNG.
    optimise
        Include the optimisation (it takes a few seconds).
    lang
        Language of the pack (``"zh"``, ``"zh+en"`` or ``"en"``).
    documents, documents_pdf, docx_template
        Write the Word report and the 17 sub-park diagnoses (default), as PDF too (``None``: when
        LibreOffice is installed), with a bureau template's styles (see :func:`~zgc_space.report.hearing_pack`).
    """
    blocks = datasets.load_blocks()
    cand_path = datasets.path("candidates.gpkg")
    proposals = datasets.sample_proposals()
    inputs: list[Path] = [datasets.path("zgc_blocks.gpkg")]
    result = None
    setup: dict[str, Any] = {"objective": "score", "max_changes": 8, "far_step": 0.5}
    if optimise:
        setup["min_area_m2"] = float(blocks["site_area_m2"].sum()) - 1e6  # area-neutral within 1 km²
        result = optimize.search(blocks, datasets.load_candidates(), objective="score",
                                 constraints=optimize.SearchConstraints.model_validate(
                                     {"max_changes": setup["max_changes"], "min_area_m2": setup["min_area_m2"]}),
                                 renewal=optimize.Renewal.model_validate({"far_step": setup["far_step"]}),
                                 proposal_id="OPT-score")
    dynamic, rules_file = sample_dynamic()
    inputs.append(datasets.path("zgc_panel_2021_2023.gpkg"))
    if rules_file is not None:
        inputs.append(rules_file)
    footer = Footer(data_source=labels.pick("合成样例数据（非官方数据）", "synthetic sample (not official data)", lang),
                    crs=labels.pick("CGCS2000 / EPSG:4548（面积计算）；WGS 84（显示）",
                                    "CGCS2000 / EPSG:4548 (areas); WGS 84 (display)", lang))
    params = {"demo": True, "optimisation_setup": setup if optimise else None,
              "dynamic_simulated_years": SAMPLE_YEARS}
    return report.hearing_pack(blocks, out_dir=out_dir, proposals=proposals, candidates=cand_path, optimisation=result,
                        dynamic=dynamic, footer=footer, inputs=inputs, png=png,
                        districts=datasets.load_districts(), parameters=params, lang=lang,
                        documents=documents, documents_pdf=documents_pdf, docx_template=docx_template)
