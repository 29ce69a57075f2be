"""One MILP through highspy's HiGHS, output off: the solver the optimiser's models run on."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import csr_array


def _status(model_status: Any) -> str:
    name = str(model_status).rsplit(".", 1)[-1]
    return {"kOptimal": "optimal", "kTimeLimit": "time_limit", "kInfeasible": "infeasible",
            "kUnbounded": "unbounded", "kUnboundedOrInfeasible": "infeasible"}.get(name, "error")


def run_highs(c: np.ndarray, *, integrality: np.ndarray, lb: np.ndarray, ub: np.ndarray, a: csr_array,
              row_lb: np.ndarray, row_ub: np.ndarray, time_limit: float, gap: float) -> dict[str, Any]:
    """Minimise ``c · x`` with HiGHS through highspy, silently; return x (or None) and the solver's report.

    highspy's own HiGHS (not scipy's copy) is used because scipy's prints a debugging line
    (``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``) straight to
    the process's stdout, which ``disp=False`` cannot silence; with ``output_flag`` off highspy's
    HiGHS prints nothing, so the process's stdout is never redirected (thread safety).
    """
    from highspy import _core  # the bare solver class: no banner, no callback machinery

    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(gap))
    lp = _core.HighsLp()
    n = len(c)
    lp.num_col_, lp.num_row_ = n, a.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lb, dtype=float), np.asarray(row_ub, dtype=float)
    m = csr_array(a)
    lp.a_matrix_.format_ = _core.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, a.shape[0]
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data.astype(float)
    kinds = (_core.HighsVarType.kContinuous, _core.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(k)] for k in integrality]
    h.passModel(lp)
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float) if sol.value_valid and len(sol.col_value) == n else None
    status = _status(model_status)
    return {
        "x": x, "status": status, "message": h.modelStatusToString(model_status),
        "fun": float(info.objective_function_value) if x is not None else None,
        "mip_dual_bound": float(info.mip_dual_bound), "mip_gap": float(info.mip_gap),
        "mip_node_count": int(info.mip_node_count),
    }
