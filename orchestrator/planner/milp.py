"""The one place the planner calls scipy's MILP solver (HiGHS); imported lazily by its users."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["solve"]

FloatArray = npt.NDArray[np.float64]


def solve(
    objective: FloatArray,
    eq_rows: Sequence[tuple[Sequence[int], Sequence[float], float]],
    ub_rows: Sequence[tuple[FloatArray, float]],
    le_rows: Sequence[tuple[Sequence[int], Sequence[float], float]],
    integral: npt.NDArray[np.bool_],
) -> FloatArray | None:
    """Minimise `objective @ x` with 0 <= x <= 1, sparse equality rows (cols, coefs, rhs), dense `<=` rows
    (coefs, rhs) for the limits, sparse `<=` rows, and `integral` marking binary variables; None if infeasible.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    n = len(objective)
    scale = float(np.max(np.abs(objective))) if n else 0.0
    objective = objective / scale if scale > 0 else objective
    constraints = []
    for rows, lower_is_rhs in ((eq_rows, True), (le_rows, False)):
        if not rows:
            continue
        r, c, v = [], [], []
        rhs = np.empty(len(rows))
        for k, (cols, coefs, value) in enumerate(rows):
            r += [k] * len(cols)
            c += list(cols)
            v += list(coefs)
            rhs[k] = value
        matrix = coo_array((v, (r, c)), shape=(len(rows), n)).tocsr()
        lower = rhs if lower_is_rhs else np.full(len(rows), -np.inf)
        constraints.append(LinearConstraint(matrix, lower, rhs))
    for coefs, value in ub_rows:
        size = float(np.max(np.abs(coefs))) if n else 0.0
        size = size if size > 0 else 1.0
        constraints.append(LinearConstraint((coefs / size).reshape(1, -1), -np.inf, value / size))
    result = milp(
        objective,
        constraints=constraints,
        integrality=integral.astype(np.int8),
        bounds=Bounds(np.zeros(n), np.ones(n)),
        options={"mip_rel_gap": 0.0, "presolve": True},
    )
    if result.x is None or result.status not in (0,):
        return None
    return np.asarray(result.x, dtype=np.float64)
