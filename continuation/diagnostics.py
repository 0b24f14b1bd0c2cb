"""Spectral diagnostics of a residual map: kernel spectrum, truncated entropy, Hessian extremes.

Three views of how hard ``min ||H(theta, eps)||^2 / 2`` is at a point:

* :func:`kernel_spectrum` -- the eigenvalues of the (smaller) Gram matrix of
  the Jacobian ``J = dH/dtheta``. ``K = J J^T`` is the kernel of gradient
  descent on the residual (the neural tangent kernel of the homotopy-dynamics
  paper, Theorem 4.1): its smallest eigenvalue bounds the rate at which the
  loss decays, and its largest one shrinks with ``eps`` for singularly
  perturbed problems. :func:`summarize_spectrum` reduces a spectrum to a
  :class:`SpectrumSummary`.
* :func:`truncated_entropy` and :func:`effective_cutoff_number` -- the
  spectral measures of Chen, Yang, Xiang and Hao, *Automatic differentiation
  is essential in training neural networks for solving differential
  equations* (arXiv:2405.14099).
* :func:`truncated_svd_residuals` -- the relative training error
  ``||A a_k - f|| / ||f||`` of the least-squares solve truncated to the
  ``k`` largest singular values, for every ``k``: the seed's training error
  of a random feature model against the truncation position.
* :func:`hessian_extremes` -- the extreme eigenvalues of the Hessian of
  ``L = ||H||^2 / 2`` by Lanczos on Hessian-vector products (no dense
  Hessian), with a count of negative Ritz values: a lower bound on the
  number of directions of negative curvature.

All of them take a problem and a point in the order of :func:`trace`'s
``diagnostics`` argument, ``fn(problem, theta, eps)``, so they can be recorded
along a path (wrap the tensor-valued ones in a ``float(...)``).

Examples
--------
>>> import torch, continuation
>>> from continuation.diagnostics import kernel_summary
>>> result = continuation.trace(
...     lambda theta, eps: theta**2 - eps, torch.tensor([0.9, 1.1], dtype=torch.float64),
...     [1.0, 0.25], diagnostics={"kernel": kernel_summary})
>>> [round(row["kernel"].lambda_min, 3) for row in result.diagnostics][-1]  # 4 theta^2 = 4 eps
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch
from torch import Tensor
from torch.func import grad, jvp

from .residual import ResidualMap, as_residual_map

__all__ = [
    "kernel_spectrum",
    "SpectrumSummary",
    "summarize_spectrum",
    "kernel_summary",
    "effective_cutoff_number",
    "truncated_entropy",
    "truncated_svd_residuals",
    "HessianExtremes",
    "hessian_extremes",
    "negative_eigenvalue_count",
]

Problem = Union[ResidualMap, Callable[[Tensor, Tensor], Tensor]]


def _as_eps(eps: Union[float, Tensor], theta: Tensor) -> Tensor:
    if isinstance(eps, Tensor):
        return eps.to(dtype=theta.dtype, device=theta.device)
    return torch.tensor(float(eps), dtype=theta.dtype, device=theta.device)


def _check_theta(theta: Tensor) -> Tensor:
    if not isinstance(theta, Tensor):
        raise TypeError(f"theta must be a torch.Tensor, got {type(theta).__name__}")
    if theta.ndim != 1 or theta.numel() == 0 or not theta.dtype.is_floating_point:
        raise ValueError(f"theta must be a non-empty 1-D floating tensor, got shape {tuple(theta.shape)}")
    return theta.detach()


def _check_spectrum(values: Tensor, name: str) -> Tensor:
    values = torch.as_tensor(values)
    if values.ndim != 1 or values.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D tensor, got shape {tuple(values.shape)}")
    if not values.dtype.is_floating_point:
        values = values.to(torch.float64)
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"{name} must be finite, got NaN or Inf entries")
    return values.detach()


# --------------------------------------------------------------------------- kernel spectrum


def kernel_spectrum(
    problem: Problem, theta: Tensor, eps: Union[float, Tensor], *, method: str = "svd"
) -> Tensor:
    """Eigenvalues, ascending, of the smaller of ``K = J J^T`` and ``J^T J``.

    ``J = problem.jacobian(theta, eps)`` has shape ``(M, P)``. The two Gram
    matrices share their nonzero eigenvalues; the smaller one (``M x M`` when
    ``M <= P``, the kernel of gradient descent on the residual) is the one
    that can be nonsingular, so the result has ``min(M, P)`` entries.

    Parameters
    ----------
    problem
        A :class:`~continuation.ResidualMap` or a callable ``residual(theta, eps)``.
    theta
        The point, a 1-D floating tensor of length ``P``.
    eps
        The homotopy parameter, a number or a 0-d tensor.
    method
        ``"svd"`` (default): the squared singular values of ``J``. They are
        the same eigenvalues, computed without forming ``K``: the small ones
        keep their accuracy (absolute error about ``u * s_max * s_i`` instead
        of ``u * s_max^2``, ``u`` the unit roundoff) and none is negative.
        ``"gram"``: :func:`torch.linalg.eigvalsh` of the smaller Gram matrix,
        cheaper for very unequal ``M`` and ``P``; eigenvalues below about
        ``u * lambda_max`` are rounding noise and may be slightly negative.

    Returns
    -------
    Tensor
        ``min(M, P)`` eigenvalues in ascending order.

    Examples
    --------
    >>> import torch
    >>> A = torch.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    >>> kernel_spectrum(lambda theta, eps: A @ theta, torch.zeros(3, dtype=torch.float64), 0.0)
    tensor([1., 9.], dtype=torch.float64)
    """
    theta = _check_theta(theta)
    if method not in ("svd", "gram"):
        raise ValueError(f"method must be 'svd' or 'gram', got {method!r}")
    jacobian = as_residual_map(problem).jacobian(theta, _as_eps(eps, theta)).detach()
    if jacobian.ndim != 2:
        raise ValueError(f"the Jacobian must be a matrix, got shape {tuple(jacobian.shape)}")
    if method == "svd":
        return torch.flip(torch.linalg.svdvals(jacobian), dims=(0,)) ** 2
    rows, cols = jacobian.shape
    gram = jacobian @ jacobian.T if rows <= cols else jacobian.T @ jacobian
    return torch.linalg.eigvalsh(gram)


@dataclass(frozen=True)
class SpectrumSummary:
    """The few numbers of a symmetric positive semi-definite spectrum.

    Attributes
    ----------
    lambda_min, lambda_max
        The smallest and the largest eigenvalue.
    condition
        ``lambda_max / lambda_min``; ``inf`` when ``lambda_min <= 0``.
    effective_rank
        How many eigenvalues exceed ``threshold * lambda_max``.
    size
        How many eigenvalues there are.
    threshold
        The relative threshold of ``effective_rank``.
    """

    lambda_min: float
    lambda_max: float
    condition: float
    effective_rank: int
    size: int
    threshold: float


def summarize_spectrum(eigenvalues: Tensor, threshold: float = 1e-10) -> SpectrumSummary:
    """Reduce a spectrum to a :class:`SpectrumSummary`.

    Parameters
    ----------
    eigenvalues
        A non-empty 1-D tensor of real eigenvalues, in any order.
    threshold
        Relative threshold of the effective rank: the count of eigenvalues
        ``> threshold * lambda_max`` (0 when ``lambda_max <= 0``).

    Examples
    --------
    >>> import torch
    >>> summary = summarize_spectrum(torch.tensor([1e-20, 1e-2, 1.0, 4.0], dtype=torch.float64))
    >>> summary.lambda_max, summary.effective_rank, summary.size
    (4.0, 3, 4)
    >>> summarize_spectrum(torch.tensor([2.0, 8.0])).condition
    4.0
    """
    values = _check_spectrum(eigenvalues, "eigenvalues")
    threshold = float(threshold)
    if not (math.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    lambda_min, lambda_max = float(values.min()), float(values.max())
    condition = lambda_max / lambda_min if lambda_min > 0 else math.inf
    rank = int((values > threshold * lambda_max).sum()) if lambda_max > 0 else 0
    return SpectrumSummary(lambda_min, lambda_max, condition, rank, values.numel(), threshold)


def kernel_summary(
    problem: Problem, theta: Tensor, eps: Union[float, Tensor], threshold: float = 1e-10
) -> SpectrumSummary:
    """:func:`summarize_spectrum` of :func:`kernel_spectrum`, ready for ``trace(diagnostics=...)``.

    Examples
    --------
    >>> import torch
    >>> kernel_summary(lambda theta, eps: 2 * theta, torch.ones(3, dtype=torch.float64), 0.0).lambda_min
    4.0
    """
    return summarize_spectrum(kernel_spectrum(problem, theta, eps), threshold)


# --------------------------------------------------------------------------- truncated entropy


def _kept(singular_values: Tensor, cutoff: float, relative: bool) -> Tensor:
    values = _check_spectrum(singular_values, "singular_values")
    if bool((values < 0).any()):
        raise ValueError("singular_values must be >= 0")
    cutoff = float(cutoff)
    if not (math.isfinite(cutoff) and cutoff >= 0):
        raise ValueError(f"cutoff must be a finite number >= 0, got {cutoff!r}")
    values = torch.sort(values, descending=True).values
    bar = cutoff * float(values[0]) if relative else cutoff
    return values[(values > bar) & (values > 0)]


def effective_cutoff_number(singular_values: Tensor, cutoff: float, *, relative: bool = True) -> int:
    """The effective cut-off number ``e(a)``: how many singular values lie above the cut-off ``a``.

    ``e(a) = #{i : s_i > a * s_1}`` with ``s_1`` the largest value
    (``relative=True``, the default), or ``#{i : s_i > a}`` with
    ``relative=False``; zeros are never counted. It is the truncation
    position of a truncated SVD with relative cut-off ``a``
    (``numpy.linalg.pinv(rcond=a)`` keeps exactly these values).

    Definition 1 of Chen, Yang, Xiang and Hao (arXiv:2405.14099, the seed
    ``ad-vs-fd-truncated-entropy``) is this count; the formula is lost from
    the seed's text, whose prose uses ``e_A(10^-12)`` as "the truncation
    position" of a truncated-SVD solve. Whether the paper's ``a`` is relative
    to ``s_1`` cannot be read from the seed: the relative form is the default
    here because it does not depend on the scale of the matrix, and
    ``relative=False`` gives the absolute one.

    Parameters
    ----------
    singular_values
        Non-negative values (singular values of ``A``, or eigenvalues of a
        positive semi-definite kernel such as ``J J^T``), in any order.
    cutoff
        ``a >= 0``.
    relative
        Compare with ``a * max(s)`` (default) or with ``a`` itself.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([1.0, 1e-3, 1e-9, 1e-15], dtype=torch.float64)
    >>> effective_cutoff_number(s, 1e-12), effective_cutoff_number(s, 1e-6)
    (3, 2)
    """
    return int(_kept(singular_values, cutoff, relative).numel())


def truncated_entropy(
    singular_values: Tensor, cutoff: float, *, relative: bool = True, normalized: bool = False
) -> float:
    """The truncated entropy ``H(a)`` of a spectrum: the Shannon entropy of the kept values.

    With ``e = e(a)`` the :func:`effective_cutoff_number` and
    ``s_1 >= ... >= s_e`` the kept values,

    ``p_i = s_i / (s_1 + ... + s_e)``,   ``H(a) = -sum_{i <= e} p_i log p_i``

    (natural logarithm). ``H`` lies in ``[0, log e]``: ``log e`` for ``e``
    equal values, about 0 when one value dominates. ``exp(H)`` is the
    "effective number" of kept values (the effective rank of Roy and
    Vetterli, restricted to the kept values). With ``normalized=True`` the
    result is ``H / log e``, in ``[0, 1]`` (0 when ``e <= 1``).

    Why this definition: it is Definition 2 of Chen, Yang, Xiang and Hao
    (arXiv:2405.14099, the seed ``ad-vs-fd-truncated-entropy``), whose
    formulas did not survive the seed's extraction. The prose fixes its
    ingredients: an entropy of the singular-value distribution *truncated at
    the effective cut-off number* ``e_A(a)``, reported as ``H_A(10^-12)`` for
    the random-feature matrix ``A`` and ``H_G(10^-5)`` for the kernel ``G``.
    Normalising by the kept sum (not by all values) is what "truncated"
    requires, so that values below the cut-off have no influence. Every
    value the seed reports lies in ``[0, 1]`` (0.1995, 0.4183, 0.5785, ...),
    which suggests the paper divides by ``log e``; that cannot be checked
    against the lost formula, so the plain entropy is the default and the
    normalised one is an option.

    Parameters
    ----------
    singular_values
        Non-negative values in any order (for a kernel spectrum, pass its
        eigenvalues).
    cutoff
        The cut-off ``a >= 0`` (relative to the largest value by default).
    relative
        As in :func:`effective_cutoff_number`.
    normalized
        Divide by ``log e`` to land in ``[0, 1]``.

    Returns
    -------
    float
        ``H(a)``; 0 when at most one value is kept (an all-zero spectrum
        included).

    Examples
    --------
    >>> import math, torch
    >>> flat = torch.ones(8, dtype=torch.float64)
    >>> math.isclose(truncated_entropy(flat, 1e-12), math.log(8))
    True
    >>> round(truncated_entropy(torch.tensor([1.0, 1e-9, 1e-9]), 1e-12), 6)  # one dominant value
    0.0
    >>> truncated_entropy(torch.tensor([1.0, 1.0, 1e-13]), 1e-12, normalized=True)  # the tiny value is cut
    1.0
    """
    kept = _kept(singular_values, cutoff, relative).to(torch.float64)
    count = kept.numel()
    if count <= 1:
        return 0.0
    p = kept / kept.sum()
    entropy = float(-(p * torch.log(p)).sum())
    entropy = max(entropy, 0.0)
    return entropy / math.log(count) if normalized else entropy


def truncated_svd_residuals(matrix: Tensor, rhs: Tensor) -> Tensor:
    """Relative residuals ``||A a_k - f|| / ||f||`` of the truncated-SVD solves, ``k = 0 ... min(M, P)``.

    ``a_k = V_k S_k^{-1} U_k^T f`` keeps the ``k`` largest singular values of
    ``A`` (shape ``(M, P)``), so ``A a_k - f = -(I - U_k U_k^T) f`` and

    ``r_k = sqrt(sum_{i > k} c_i^2) / ||f||``,   ``c = U^T f``

    with the full ``M x M`` factor ``U`` (its last ``M - min(M, P)``
    columns span what no ``a`` reaches). The tail sums are accumulated from
    the smallest term up, so a residual of ``1e-15 ||f||`` is resolved (the
    difference ``||f||^2 - ||U_k^T f||^2`` would lose everything below about
    ``1e-8``). Entry ``k`` is the training error of a truncated SVD with
    effective cut-off number ``k``: with :func:`effective_cutoff_number`,
    ``r[effective_cutoff_number(svdvals(A), a)]`` is the error of the solve
    with relative cut-off ``a`` (the truncation of ``numpy.linalg.pinv(rcond=a)``).

    This is the relative training error ``||A a - f|| / ||f||`` of the random
    feature model in Chen, Yang, Xiang and Hao (arXiv:2405.14099, seed
    ``ad-vs-fd-truncated-entropy``, Figures 1b and 3b), plotted there against
    the truncation position.

    Parameters
    ----------
    matrix
        ``A``, a 2-D floating tensor with at least one row and column.
    rhs
        ``f``, a nonzero vector of length ``M``.

    Returns
    -------
    Tensor
        ``min(M, P) + 1`` values, non-increasing, from ``r_0 = 1``.

    Examples
    --------
    >>> import torch
    >>> A = torch.diag(torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64))
    >>> truncated_svd_residuals(A, torch.tensor([0.0, 3.0, 4.0], dtype=torch.float64))  # k = 0, 1, 2, 3
    tensor([1.0000, 1.0000, 0.8000, 0.0000], dtype=torch.float64)
    """
    if not isinstance(matrix, Tensor) or matrix.ndim != 2 or 0 in matrix.shape:
        shape = tuple(matrix.shape) if isinstance(matrix, Tensor) else type(matrix).__name__
        raise ValueError(f"matrix must be a non-empty 2-D tensor, got {shape}")
    if not matrix.dtype.is_floating_point or not bool(torch.isfinite(matrix).all()):
        raise ValueError("matrix must be a finite floating tensor")
    if not isinstance(rhs, Tensor) or rhs.shape != (matrix.shape[0],):
        shape = tuple(rhs.shape) if isinstance(rhs, Tensor) else type(rhs).__name__
        raise ValueError(f"rhs must be a vector of length {matrix.shape[0]} (the rows of matrix), got {shape}")
    rhs = rhs.to(matrix.dtype)
    norm = float(torch.linalg.vector_norm(rhs))
    if not (math.isfinite(norm) and norm > 0):
        raise ValueError(f"rhs must be finite and nonzero, got norm {norm!r}")
    u, _, _ = torch.linalg.svd(matrix.detach(), full_matrices=True)
    coefficients = (u.T @ rhs.detach()) / norm
    squares = torch.cat([coefficients**2, coefficients.new_zeros(1)])
    tails = torch.flip(torch.cumsum(torch.flip(squares, dims=(0,)), dim=0), dims=(0,))  # tails[k] = sum_{i >= k}
    return torch.sqrt(tails[: min(matrix.shape) + 1])


# --------------------------------------------------------------------------- Hessian by Lanczos


@dataclass(frozen=True)
class HessianExtremes:
    """Ritz estimates of the extreme eigenvalues of the Hessian of ``||H||^2 / 2``.

    Attributes
    ----------
    smallest, largest
        The smallest and the largest Ritz value. By Cauchy interlacing
        ``smallest >= lambda_min(Hessian)`` and ``largest <= lambda_max(Hessian)``
        (up to rounding); both converge to the extreme eigenvalues as the
        iterations grow.
    smallest_residual, largest_residual
        ``||Hess x - r x||`` of the Ritz pairs: an eigenvalue of the Hessian
        lies within this distance of the Ritz value ``r``.
    negative_count
        How many Ritz values are below ``-rtol * max |Ritz|``: a lower bound
        (Cauchy interlacing) on the number of negative eigenvalues, exact
        only if the Krylov space is the whole space.
    ritz_values
        All Ritz values, ascending.
    iterations
        Lanczos steps taken (Hessian-vector products).
    """

    smallest: float
    largest: float
    smallest_residual: float
    largest_residual: float
    negative_count: int
    ritz_values: Tensor
    iterations: int


def _hvp(problem: ResidualMap, theta: Tensor, eps: Tensor) -> Callable[[Tensor], Tensor]:
    """``v -> Hess(L) v`` for ``L = ||H||^2 / 2``, by forward-over-reverse differentiation."""

    def loss(t: Tensor) -> Tensor:
        residual = problem(t, eps)
        return 0.5 * torch.dot(residual, residual)

    gradient = grad(loss)

    def product(v: Tensor) -> Tensor:
        return jvp(gradient, (theta,), (v,))[1].detach()

    return product


def hessian_extremes(
    problem: Problem,
    theta: Tensor,
    eps: Union[float, Tensor],
    k: int = 40,
    *,
    seed: int = 0,
    rtol: float = 1e-10,
    start: Optional[Tensor] = None,
) -> HessianExtremes:
    """Extreme eigenvalues of the Hessian of ``L = ||H(theta, eps)||^2 / 2`` by Lanczos.

    ``k`` steps of the Lanczos iteration on the Hessian-vector product
    ``v -> d/dt grad L(theta + t v)`` (:func:`torch.func.jvp` of
    :func:`torch.func.grad`: one forward-over-reverse pass, the Hessian is
    never formed), with full reorthogonalisation of every new vector against
    all previous ones (twice, "twice is enough"), so no spurious copies of
    converged Ritz values appear. The Ritz values are the eigenvalues of the
    ``k x k`` tridiagonal matrix; the returned extremes are *Ritz
    estimates*: inner bounds of the true extremes that converge quickly
    for well-separated extreme eigenvalues and slowly for clustered ones. The
    iteration stops early when the Krylov space becomes invariant; with
    ``k >= P`` and no early stop, the Ritz values are all the eigenvalues.

    The Hessian is ``J^T J + sum_i H_i Hess(H_i)``: positive semi-definite
    at a zero-residual point, so negative Ritz values measure the curvature
    that the residual term adds (the indefiniteness behind the failures of
    exact-Hessian Newton training).

    Parameters
    ----------
    problem
        A :class:`~continuation.ResidualMap` or a callable ``residual(theta, eps)``.
    theta, eps
        The point.
    k
        Lanczos steps, capped at ``P``.
    seed
        Seed of the random start vector (a standard normal draw).
    rtol
        A Ritz value counts as negative when below ``-rtol * max |Ritz|``;
        the same relative size of ``beta`` stops the iteration.
    start
        A start vector instead of the random one.

    Returns
    -------
    HessianExtremes

    Examples
    --------
    >>> import torch
    >>> D = torch.tensor([3.0, -2.0, 1.0, 0.5], dtype=torch.float64)
    >>> problem = lambda theta, eps: torch.cat([theta, (theta * theta * D).sum()[None]])
    >>> result = hessian_extremes(problem, torch.zeros(4, dtype=torch.float64), 0.0, k=4)
    >>> round(result.smallest, 8), round(result.largest, 8), result.negative_count
    (1.0, 1.0, 0)
    >>> theta = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)  # residual 0.5 != 0
    >>> hessian_extremes(problem, theta, 0.0, k=4).negative_count  # 1 + 0.5 * 2 * (-2) < 0
    1
    """
    theta = _check_theta(theta)
    problem = as_residual_map(problem)
    eps = _as_eps(eps, theta)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    rtol = float(rtol)
    if not (math.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a finite number >= 0, got {rtol!r}")
    size = theta.numel()
    steps = min(k, size)
    if start is None:
        generator = torch.Generator().manual_seed(seed)
        q = torch.randn(size, generator=generator, dtype=theta.dtype).to(theta.device)
    else:
        q = torch.as_tensor(start, dtype=theta.dtype, device=theta.device).detach().reshape(-1).clone()
        if q.numel() != size or not bool(torch.isfinite(q).all()) or float(q.norm()) == 0:
            raise ValueError("start must be a finite nonzero vector of the length of theta")
    hvp = _hvp(problem, theta, eps)

    basis = torch.empty(steps + 1, size, dtype=theta.dtype, device=theta.device)
    basis[0] = q / q.norm()
    alphas: list[float] = []
    betas: list[float] = []
    scale = 0.0
    for j in range(steps):
        w = hvp(basis[j])
        alpha = float(torch.dot(basis[j], w))
        alphas.append(alpha)
        w = w - alpha * basis[j]
        if j > 0:
            w = w - betas[-1] * basis[j - 1]
        for _ in range(2):  # full reorthogonalisation, twice
            w = w - basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(w.norm())
        scale = max(scale, abs(alpha), beta)
        betas.append(beta)
        if j + 1 == size or beta <= max(rtol, 1e-14) * scale:
            break
        basis[j + 1] = w / beta
    m = len(alphas)
    tridiagonal = torch.diag(torch.tensor(alphas, dtype=torch.float64))
    if m > 1:
        off = torch.tensor(betas[: m - 1], dtype=torch.float64)
        tridiagonal = tridiagonal + torch.diag(off, 1) + torch.diag(off, -1)
    ritz, vectors = torch.linalg.eigh(tridiagonal)
    residuals = abs(betas[m - 1]) * vectors[m - 1].abs()  # ||Hess x - r x|| = beta_m |y_m|
    bar = rtol * float(ritz.abs().max())
    return HessianExtremes(
        smallest=float(ritz[0]),
        largest=float(ritz[-1]),
        smallest_residual=float(residuals[0]),
        largest_residual=float(residuals[-1]),
        negative_count=int((ritz < -bar).sum()),
        ritz_values=ritz.to(theta.dtype),
        iterations=m,
    )


def negative_eigenvalue_count(
    problem: Problem, theta: Tensor, eps: Union[float, Tensor], k: int = 40, **kwargs
) -> int:
    """A lower bound on the number of negative Hessian eigenvalues: negative Ritz values of :func:`hessian_extremes`.

    By Cauchy interlacing the ``i``-th smallest Ritz value is at least the
    ``i``-th smallest eigenvalue, so each negative Ritz value certifies a
    negative eigenvalue. The exact count (the inertia) would need a dense
    factorisation of the ``P x P`` Hessian; this bound costs ``k``
    Hessian-vector products and is exact when ``k >= P`` and Lanczos does not
    stop early (a start vector orthogonal to an eigenvector misses it).
    Keyword arguments go to :func:`hessian_extremes`.

    Examples
    --------
    >>> import torch
    >>> negative_eigenvalue_count(lambda theta, eps: theta[0] * theta[1:] - 1.0,
    ...                           torch.zeros(3, dtype=torch.float64), 0.0, k=3)
    1
    """
    return hessian_extremes(problem, theta, eps, k, **kwargs).negative_count
