"""The one place the planner calls scipy's MILP solver (HiGHS); imported lazily by its users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    (coefs, rhs) for the limits, sparse `<=` rows, and `integral` marking binary variables; None if
    infeasible.
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
    for dense, limit in ub_rows:
        size = float(np.max(np.abs(dense))) if n else 0.0
        size = size if size > 0 else 1.0
        constraints.append(LinearConstraint((dense / size).reshape(1, -1), -np.inf, limit / size))
    bounds = Bounds(np.zeros(n), np.ones(n))
    relaxed = _relaxation(objective, constraints, n)
    if relaxed is not None and np.all(np.abs(relaxed[integral] - np.round(relaxed[integral])) <= 1e-9):
        return relaxed
    result = milp(
        objective,
        constraints=constraints,
        integrality=integral.astype(np.int8),
        bounds=bounds,
        options={"mip_rel_gap": 0.0, "presolve": True},
    )
    if result.x is None or result.status not in (0,):
        return None
    return np.asarray(result.x, dtype=np.float64)


def _relaxation(objective: FloatArray, constraints: list[Any], n: int) -> FloatArray | None:
    """The LP relaxation's optimum, or None. When it is integral on the binaries it is the MILP's optimum
    too (the relaxation's optimum is a lower bound, and an integral point is feasible for the MILP), so
    the branch and bound is skipped; that is the common case, and about twice as fast."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_array, issparse, vstack

    if not constraints:
        return None

    def rows(c: Any) -> Any:
        return c.A if issparse(c.A) else csr_array(np.atleast_2d(c.A))

    eq = [c for c in constraints if np.array_equal(c.lb, c.ub)]
    ub = [c for c in constraints if not np.array_equal(c.lb, c.ub)]
    result = linprog(
        objective,
        A_ub=vstack([rows(c) for c in ub]) if ub else None,
        b_ub=np.concatenate([c.ub for c in ub]) if ub else None,
        A_eq=vstack([rows(c) for c in eq]) if eq else None,
        b_eq=np.concatenate([c.ub for c in eq]) if eq else None,
        bounds=(0, 1),
        method="highs",
    )
    if result.status != 0 or result.x is None:
        return None
    return np.asarray(result.x, dtype=np.float64)
