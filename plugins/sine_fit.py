"""How sine-like curves are: a least-squares fit of y ≈ a·sin(ωt) + b·cos(ωt) + c per curve.

The sine dataset's own eval figures (:meth:`ganzoo.plugins.sine.Sine.eval_figures`): the RMS
residual of each generated curve's best fit, and the share of curves that are sines.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ganzoo.errors import MetricsError
from ganzoo.metrics.checks import check_features, row_chunks

#: Default ω grid of :func:`sine_fit`: the ganzoo sine data has frequencies mul ∈ [1, 2) rad per unit t.
SINE_OMEGA_RANGE = (0.5, 3.0)
SINE_OMEGA_STEPS = 400


def _sine_bases(omegas: Tensor, t: Tensor) -> Tensor:
    """Orthonormal bases (..., T, 3) of the column spaces of [sin(ωt), cos(ωt), 1], one per ω.

    Through the SVD, dropping directions with tiny singular values, so that a degenerate design (ω = 0, or
    ω·t a multiple of π everywhere) projects onto its true, smaller column space.
    """
    wt = omegas.unsqueeze(-1) * t
    design = torch.stack([torch.sin(wt), torch.cos(wt), torch.ones_like(wt)], dim=-1)
    u, s, _ = torch.linalg.svd(design, full_matrices=False)
    keep = s > s[..., :1] * (t.shape[0] * torch.finfo(torch.float64).eps * 10)
    return u * keep.unsqueeze(-2)


def _sine_residuals(curves: Tensor, omegas: Tensor, t: Tensor) -> Tensor:
    """Sum of squared residuals (N,) of each curve's fit at its own ω (N,), from the explicit residual."""
    basis = _sine_bases(omegas, t)
    coef = torch.einsum("nt,ntk->nk", curves, basis)
    residual = curves - torch.einsum("ntk,nk->nt", basis, coef)
    return residual.square().sum(dim=1)


def _parabola_vertex(w: Tensor, f: Tensor) -> Tensor:
    """The abscissa of the vertex of the parabola through (w[:, i], f[:, i]), i = 0, 1, 2; w[:, 1] if none."""
    a, b, c = w.unbind(dim=1)
    fa, fb, fc = f.unbind(dim=1)
    num = (b - a) ** 2 * (fb - fc) - (b - c) ** 2 * (fb - fa)
    den = (b - a) * (fb - fc) - (b - c) * (fb - fa)
    vertex = b - 0.5 * num / den
    ok = (den.abs() > 0) & torch.isfinite(vertex)
    return torch.where(ok, vertex, b).clamp(min=a, max=c)


def sine_fit_params(
    curves: Tensor,
    t: Tensor | Sequence[float],
    omegas: Tensor | Sequence[float] | None = None,
    refine: bool = True,
) -> tuple[Tensor, Tensor]:
    """Per-curve RMS residual (N,) and best ω (N,) of the least-squares fit y ≈ a·sin(ωt) + b·cos(ωt) + c.

    The fit is linear in (a, b, c) for a fixed ω, so each ω on the grid gets one orthonormal basis Q (T, 3)
    and every curve's residual sum of squares is ||y||² - ||Qᵀy||², all curves at once. The default grid has
    400 values of ω spanning 0.5..3.0 rad per unit t, which covers the ganzoo sine data (mul ∈ [1, 2))
    with room on both sides. With ``refine`` the best grid ω of each curve is refined by one parabolic step
    through it and its two neighbours (kept only if it lowers the residual): the grid alone (step 0.006)
    leaves up to 4e-3 RMS on an exact sine, one step brings that under 1e-5. The residual reported is the
    RMS of the explicit residual vector at the chosen ω, in float64: ~0 for a perfect sine, about the noise
    std for noisy curves (a little less, since the four fitted parameters absorb some noise).
    """
    y = check_features(curves, "curves", 1, "a sine fit").to(torch.float64)
    if not isinstance(t, Tensor):
        t = torch.tensor(list(t), dtype=torch.float64)
    t = t.to(device=y.device, dtype=torch.float64)
    if t.ndim != 1 or t.shape[0] != y.shape[1]:
        raise MetricsError(f"The sample positions t must have shape ({y.shape[1]},), not {tuple(t.shape)}.")
    if y.shape[1] < 4:
        raise MetricsError(
            f"A sine fit has 4 parameters, so curves need at least 4 points, not {y.shape[1]}."
        )
    if not bool(torch.isfinite(t).all()):
        raise MetricsError("The sample positions t must be finite.")
    if omegas is None:
        grid = torch.linspace(*SINE_OMEGA_RANGE, SINE_OMEGA_STEPS, dtype=torch.float64, device=y.device)
    else:
        grid = torch.as_tensor(omegas, dtype=torch.float64).to(y.device).reshape(-1)
        if grid.numel() == 0 or not bool(torch.isfinite(grid).all()):
            raise MetricsError("The ω grid of a sine fit must be a non-empty set of finite numbers.")
        grid = torch.unique(grid)  # sorted, so that grid neighbours are neighbours in ω
    bases = _sine_bases(grid, t)  # (W, T, 3)
    w = grid.shape[0]
    best = torch.empty(y.shape[0], dtype=torch.long, device=y.device)
    rss_grid = torch.empty(y.shape[0], 3, dtype=torch.float64, device=y.device)
    for start, stop in row_chunks(y.shape[0], w * 3):
        chunk = y[start:stop]
        proj = torch.einsum("nt,wtk->nwk", chunk, bases)
        rss = (chunk.square().sum(dim=1, keepdim=True) - proj.square().sum(dim=2)).clamp(min=0)
        idx = rss.argmin(dim=1)
        best[start:stop] = idx
        around = (idx.unsqueeze(1) + torch.arange(-1, 2, device=y.device)).clamp(0, w - 1)
        rss_grid[start:stop] = rss.gather(1, around)
    omega = grid[best]
    rss_best = _sine_residuals(y, omega, t)
    if refine and w >= 3:
        inner = (best > 0) & (best < w - 1)
        if bool(inner.any()):
            around = best[inner].unsqueeze(1) + torch.arange(-1, 2, device=y.device)
            candidate = _parabola_vertex(grid[around], rss_grid[inner])
            rss_candidate = _sine_residuals(y[inner], candidate, t)
            better = rss_candidate < rss_best[inner]
            omega[inner] = torch.where(better, candidate, omega[inner])
            rss_best[inner] = torch.where(better, rss_candidate, rss_best[inner])
    return (rss_best / y.shape[1]).sqrt(), omega


def sine_fit(
    curves: Tensor,
    t: Tensor | Sequence[float],
    omegas: Tensor | Sequence[float] | None = None,
    refine: bool = True,
) -> Tensor:
    """Per-curve RMS residual (N,) float64 of the best sine fit; see :func:`sine_fit_params` for the method.

    A measure of how sine-like generated curves are: an exact sine gives ~0, a curve that is not a sine gives
    a residual on the scale of its deviation.
    """
    return sine_fit_params(curves, t, omegas, refine)[0]


def sine_phase(curves: Tensor, t: Tensor, omega: Tensor) -> tuple[Tensor, Tensor]:
    """Amplitude (N,) and phase (N,) in [0, 2π) of y ≈ A·sin(ωt + φ) + c at each curve's own ω.

    a·sin(ωt) + b·cos(ωt) = A·sin(ωt + φ) with A = √(a² + b²) and φ = atan2(b, a): the least-squares
    coefficients (a, b, c) at the ω :func:`sine_fit_params` found.
    """
    y = curves.to(torch.float64)
    t = t.to(device=y.device, dtype=torch.float64)
    wt = omega.to(y).unsqueeze(-1) * t
    design = torch.stack([torch.sin(wt), torch.cos(wt), torch.ones_like(wt)], dim=-1)  # (N, T, 3)
    coef = torch.linalg.lstsq(design, y.unsqueeze(-1)).solution.squeeze(-1)  # (N, 3)
    a, b = coef[:, 0], coef[:, 1]
    return torch.sqrt(a**2 + b**2), torch.remainder(torch.atan2(b, a), 2 * torch.pi)


def ks_distance(a: Tensor, b: Tensor) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = a.double().sort().values, b.double().sort().values
    if a.numel() == 0 or b.numel() == 0:
        return 1.0
    grid = torch.cat([a, b])
    cdf_a = torch.searchsorted(a, grid, right=True).double() / a.numel()
    cdf_b = torch.searchsorted(b, grid, right=True).double() / b.numel()
    return float((cdf_a - cdf_b).abs().max())
