"""Figures for the escape experiments of :mod:`numeric.dynamics.escape` (matplotlib, Agg, PNG).

Public:
    plot_run(run, path)       loss, distance to W* (with the top component and its predicted
                              growth) and sharpness vs step, with 2/eta and the escape step drawn;
                              the distance is drawn on top (thick, translucent), the top
                              component dashed and the prediction dotted beneath it; the title
                              states the outcome once (``escaped at step 705 (predicted
                              704.1), then oscillating``)
    plot_sweep(sweep, path)   escape step vs factor and vs log10(1/eps), measured points on the
                              predicted curves ``log(delta / eps_top) / log(2 factor - 1)``; runs
                              without an escape step sit in a separate row under the left panel
                              (one line per eps, each labelled with its outcome), never on the
                              step axis

Both write the PNG atomically (a temporary file in the target directory, then ``os.replace``)
and return the path. Values are the float approximations recorded by the runs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from numeric.dynamics.escape import EscapeRun, EscapeSweep
from numeric.oracle.files import atomic_write

__all__ = ["plot_run", "plot_sweep"]


def _arith(run: EscapeRun) -> str:
    return "float64" if run.dps is None else f"mpmath, {run.dps} digits"


def _positive(values: list[float]) -> np.ndarray:
    """Values for a log axis: non-positive entries (underflow) become NaN (not drawn)."""
    a = np.abs(np.asarray(values, dtype=float))
    a[~(a > 0)] = np.nan
    return a


def plot_run(run: EscapeRun, path: str | os.PathLike[str]) -> Path:
    """Three panels over the steps of one run; see the module docstring."""
    fig, axes = plt.subplots(3, 1, figsize=(8, 9.5), sharex=True)
    steps = np.arange(len(run.losses))
    eta = float(run.eta)
    _loss_panel(axes[0], run, steps)
    _distance_panel(axes[1], run, steps)
    _sharpness_panel(axes[2], run, eta)
    axes[2].set_xlabel("gradient-descent step t")
    for ax in axes:
        _mark_escape(ax, run)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(
        f"GD near W*, dims {run.dims}: eta = {run.factor:g} x 2/lambda_max(W*), "
        f"eps = {run.eps}, {_arith(run)}\n{_outcome_text(run)}",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def _outcome_text(run: EscapeRun) -> str:
    """The run's outcome once: ``escaped at step 705 (predicted 704.1)``, ``converged at step
    125``, ``diverged ...``, ``undecided after N steps``."""
    pred = ("" if run.predicted_escape_step is None
            else f" (predicted {run.predicted_escape_step:.1f})")
    escaped = "" if run.escape_step is None else f"escaped at step {run.escape_step}{pred}"
    if run.outcome == "diverged":
        died = f"diverged at step {run.diverged_step} ({run.divergence_reason})"
        return f"{escaped}, then {died}" if escaped else died
    if escaped:
        return escaped + ("" if not run.after_escape else f", then {run.after_escape}")
    if run.outcome == "converged" and run.converged_step is not None:
        return f"converged at step {run.converged_step} without escaping"
    return f"{run.outcome} after {run.steps_run} steps{pred}"


def _loss_panel(ax: Any, run: EscapeRun, steps: np.ndarray) -> None:
    if run.weight_decay == "0":
        label, title = "loss 1/2||W_L..W_1 X - Y||_F^2", "loss"
    else:  # L_lam(theta*) > 0: the excess, whose rounding floor is ~10^-dps L_lam(theta*)
        label = "|L_lam(theta_t) - L_lam(theta*)|, L_lam = loss + (lam/2) sum ||W_l||^2"
        title = f"excess regularized loss, weight decay lam = {run.weight_decay}"
    ax.semilogy(steps, _positive(run.losses), color="C0", label=label)
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=9)


def _distance_panel(ax: Any, run: EscapeRun, steps: np.ndarray) -> None:
    """The distance is drawn last and thickest, the top component dashed and the prediction
    dotted beneath it: where they coincide (the top mode dominates) all three stay visible."""
    if run.growth > 1 and run.eps_top > 0:
        horizon = steps[: (run.escape_step or len(steps) - 1) + 1]
        pred = run.eps_top * run.growth ** horizon.astype(float)
        ax.semilogy(horizon, pred, color="k", ls=":", lw=1.4, zorder=2,
                    label=f"eps_top x {run.growth:.3g}^t (linearized)")
    ax.semilogy(
        steps, _positive(run.top_components), color="C2", ls="--", lw=1.2, zorder=3,
        label="|component along top eigenvector of H(W*)|",
    )
    ax.semilogy(steps, _positive(run.distances), color="C1", lw=2.6, alpha=0.55, zorder=4,
                label="||theta_t - theta*|| (distance)")
    ax.axhline(run.delta_abs, color="r", ls="-.", lw=1, label=f"delta = {run.delta_abs:.3g}")
    ax.set_ylabel("distance to W*")
    ax.set_title("distance to the start minimizer W*", fontsize=9)


def _sharpness_panel(ax: Any, run: EscapeRun, eta: float) -> None:
    ax.plot(
        run.sharpness_steps, run.sharpness_values, "o-", ms=3, color="C4",
        label="lambda_max of the full Hessian" + ("" if run.weight_decay == "0" else " + lam")
        + " (float64, approximate)",
    )
    ax.axhline(2 / eta, color="r", ls="--", label=f"2/eta = {2 / eta:.4g}")
    ax.axhline(
        float(run.lambda_max_start), color="gray", ls=":",
        label=f"lambda_max(W*) = {float(run.lambda_max_start):.4g}",
    )
    ax.margins(y=0.15)
    ax.set_ylabel("sharpness")
    ax.set_title("sharpness along the trajectory", fontsize=9)


def _mark_escape(ax: Any, run: EscapeRun) -> None:
    if run.escape_step is not None:
        ax.axvline(run.escape_step, color="C3", lw=0.8, alpha=0.6)
    if run.predicted_escape_step is not None and run.predicted_escape_step < len(run.losses):
        ax.axvline(run.predicted_escape_step, color="k", lw=0.8, ls=":", alpha=0.6)


def plot_sweep(sweep: EscapeSweep, path: str | os.PathLike[str]) -> Path:
    """Two panels: escape step vs factor (one series per eps) and vs log10(1/eps) (one series
    per factor > 1), measured markers on predicted lines. Runs that did not escape have no
    escape step: they are drawn in a separate row under the left panel, one line per eps,
    each marker labelled with its outcome (never as a value on the step axis)."""
    fig = plt.figure(figsize=(13, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[5, 1.3])
    ax1 = fig.add_subplot(grid[0, 0])
    strip = fig.add_subplot(grid[1, 0], sharex=ax1)
    ax2 = fig.add_subplot(grid[:, 1])
    _factor_panel(ax1, sweep)
    _no_escape_strip(strip, sweep)
    ax1.tick_params(labelbottom=False)
    _eps_panel(ax2, sweep)
    first = sweep.runs[0][0]
    fig.suptitle(
        f"Escape from W* (dims {first.dims}, {_arith(first)}, start W* + eps D, "
        f"D {first.direction}, escape when ||theta - theta*|| > {first.delta:g} ||W*||)\n"
        "markers: measured escape step; lines: predicted log(delta/eps_top) / log(2 factor - 1)",
        fontsize=10,
    )
    return _save(fig, path)


def _factor_panel(ax: Any, sweep: EscapeSweep) -> None:
    fmax = max(sweep.factors)
    for j, eps in enumerate(sweep.epss):
        runs = [row[j] for row in sweep.runs]
        color = f"C{j % 10}"
        ref = next((r for r in runs if r.eps_top > 0), None)
        if ref is not None and fmax > 1:
            grid = np.linspace(1 + 1e-3, max(fmax * 1.02, 1.05), 300)
            pred = np.log(ref.delta_abs / ref.eps_top) / np.log(2 * grid - 1)
            keep = pred < 3 * max((r.escape_step or 0) for r in runs) + 50
            ax.plot(grid[keep], pred[keep], color=color, lw=1)
        up = [(r.factor, r.escape_step) for r in runs if r.escape_step is not None]
        if up:
            ax.plot(*zip(*up, strict=True), "o", color=color, label=f"escaped, eps = {eps}")
    ax.axvline(1, color="r", ls="--", label="threshold eta lambda_max = 2")
    ax.set_yscale("log")
    ax.set_ylabel("escape step (first t with ||theta_t - theta*|| > delta)")
    ax.set_title("escape step vs factor (lines: prediction)", fontsize=9)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)


def _no_escape_strip(ax: Any, sweep: EscapeSweep) -> None:
    """Runs without an escape step: one row per eps, an ``x`` at the factor, its outcome
    written beside it."""
    for j in range(len(sweep.epss)):
        for row in sweep.runs:
            r = row[j]
            if r.escape_step is None:
                ax.plot(r.factor, j, "x", color=f"C{j % 10}", ms=7, mew=1.5)
                ax.annotate(r.outcome, (r.factor, j), xytext=(6, -3),
                            textcoords="offset points", fontsize=7)
    ax.axvline(1, color="r", ls="--")
    ax.set_yticks(range(len(sweep.epss)), [f"eps = {e}" for e in sweep.epss], fontsize=7)
    ax.set_ylim(-0.7, len(sweep.epss) - 0.3)
    ax.invert_yaxis()
    ax.set_ylabel("no escape", fontsize=8)
    ax.set_xlabel("factor = eta lambda_max(W*) / 2")
    ax.grid(True, axis="x", alpha=0.3)


def _eps_panel(ax: Any, sweep: EscapeSweep) -> None:
    fits = {f.factor: f for f in sweep.fits}
    for i, factor in enumerate(sweep.factors):
        row = sweep.runs[i]
        if factor <= 1:
            continue
        color = f"C{(len(sweep.epss) + i) % 10}"  # not the colours of the eps series
        pts = [(-math.log10(float(r.eps)), r.escape_step) for r in row if r.escape_step]
        xs = np.linspace(
            min(-math.log10(float(r.eps)) for r in row),
            max(-math.log10(float(r.eps)) for r in row), 100,
        )
        ratio = next((r.eps_top / float(r.eps) for r in row if r.eps_top > 0), None)
        if ratio is not None:
            delta_abs = row[0].delta_abs
            pred = (np.log(delta_abs / ratio) + xs * math.log(10)) / math.log(2 * factor - 1)
            ax.plot(xs, pred, color=color, lw=1)
        fit = fits.get(factor)
        label = f"factor {factor:g}"
        if fit is not None:
            label += (
                f": slope {fit.slope:.2f} vs predicted {fit.predicted_slope:.2f} steps/decade"
                f" (rel. err. {fit.relative_error:.2%})"
            )
        if pts:
            ax.plot(*zip(*pts, strict=True), "s", color=color, label=label)
    ax.set_xlabel("log10(1/eps)")
    ax.set_ylabel("escape step")
    ax.set_title("escape step vs log10(1/eps) (lines: prediction)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as PNG atomically (``numeric.oracle.files.atomic_write``) and close it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return atomic_write(target, lambda fh: fig.savefig(fh, format="png", dpi=110), binary=True)
    finally:
        plt.close(fig)
