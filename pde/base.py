"""What every PDE problem of the catalogue offers."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from continuation import PointwiseResidual, ResidualMap, StackedResidual

from .calculus import laplacian

__all__ = ["relative_l2", "farthest_root", "device_of", "NetworkProblem", "NetworkOutputs"]


def relative_l2(predicted: Tensor, exact: Tensor) -> float:
    """``||predicted - exact||_2 / ||exact||_2`` over all entries.

    Examples
    --------
    >>> import torch
    >>> relative_l2(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 2.0]))  # doctest: +ELLIPSIS
    0.447...
    """
    return float(torch.linalg.vector_norm(predicted - exact) / torch.linalg.vector_norm(exact))


def farthest_root(x: Tensor, u: Tensor, reference: float) -> float:
    """The root of the samples ``u`` on the 1-D grid ``x`` farthest from ``reference``.

    Roots are located by sign changes and linear interpolation; with several
    roots the one farthest from ``reference`` is reported (a spurious second
    interface counts as an error); ``nan`` if there is none.

    Examples
    --------
    >>> import torch
    >>> x = torch.linspace(-1.0, 1.0, 5)
    >>> farthest_root(x, x - 0.25, 0.0)
    0.25
    >>> farthest_root(x, torch.ones(5), 0.0)
    nan
    """
    change = torch.nonzero(torch.sign(u[:-1]) * torch.sign(u[1:]) <= 0)[:, 0]
    if change.numel() == 0:
        return math.nan
    x0, x1, u0, u1 = x[change], x[change + 1], u[change], u[change + 1]
    denominator = torch.where(u1 == u0, torch.ones_like(u0), u1 - u0)
    roots = torch.where(u1 == u0, x0, x0 - u0 * (x1 - x0) / denominator)
    return float(roots[torch.argmax((roots - reference).abs())])


def device_of(model: object) -> torch.device:
    """The device of a network's weights, where a problem builds its points (the CPU for a model
    that does not say: ``device`` is optional in the model protocol).

    Examples
    --------
    >>> from models import MLP
    >>> device_of(MLP([1, 2, 1], device="meta")), device_of(object())
    (device(type='meta'), device(type='cpu'))
    """
    return torch.device(getattr(model, "device", "cpu"))


class NetworkOutputs:
    """A network problem's function at its interior points, ``theta -> predict(theta, points)``.

    Callable like any ``outputs``; its :meth:`jacobian` is vmapped over the
    points (one small reverse pass per point), which
    :func:`continuation.output_jacobian` uses instead of differentiating the
    whole batch once per point. The points are read when called, so the
    outputs follow a problem whose points move.

    Examples
    --------
    >>> import torch
    >>> from pde import AllenCahn1D
    >>> problem = AllenCahn1D(n_points=20)
    >>> theta = problem.model.init(seed=0)
    >>> jac = problem.outputs.jacobian(theta)
    >>> jac.shape == (20, theta.numel())
    True
    >>> torch.allclose(jac, torch.func.jacrev(problem.outputs)(theta))
    True
    """

    def __init__(self, problem: "NetworkProblem"):
        self.problem = problem

    def __call__(self, theta: Tensor) -> Tensor:
        return self.problem.predict(theta, self.problem.points)

    def jacobian(self, theta: Tensor) -> Tensor:
        """``d u_theta(x_i) / d theta``, shape ``(N, P)``."""
        def at(weights: Tensor, x: Tensor) -> Tensor:
            return self.problem.predict(weights, x[None])[0]

        return torch.func.vmap(torch.func.jacrev(at), in_dims=(None, 0))(theta, self.problem.points)


class NetworkProblem:
    """A physics-informed problem solved by a network ``u_theta``.

    Subclasses set ``model`` (with ``apply(theta, x)``), ``residual_map``
    (the :class:`~continuation.ResidualMap` ``H(theta, eps)``) and
    ``test_points`` (a dense set, separate from the collocation points), and
    implement :meth:`exact`.
    """

    model: object
    residual_map: ResidualMap
    test_points: Tensor

    def exact(self, x: Tensor, eps: float) -> Tensor:
        """The exact solution at the points ``x`` of shape ``(N, d)``, shape ``(N,)``."""
        raise NotImplementedError

    def u(self, theta: Tensor, x: Tensor) -> Tensor:
        """The network at one point ``x`` of shape ``(d,)``, a scalar (pointwise residuals use it)."""
        return self.model.apply(theta, x)[0]

    def u_and_laplacian(self, theta: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """``u`` and its Laplacian at one point ``x`` of shape ``(d,)``, two scalars.

        By the model's Taylor-mode propagation when it has one
        (:meth:`models.MLP.apply_with_laplacian`, tanh or sin), else by
        :func:`pde.calculus.laplacian` of :meth:`u`. Subclasses that change
        :meth:`u` must override this too.
        """
        if getattr(self.model, "supports_laplacian", False):
            u, lap = self.model.apply_with_laplacian(theta, x)
            return u[0], lap[0]
        return self.u(theta, x), laplacian(lambda y: self.u(theta, y))(x)

    def predict(self, theta: Tensor, x: Tensor) -> Tensor:
        """The network at the points ``x`` of shape ``(N, d)``, shape ``(N,)``."""
        return self.model.apply(theta, x)[:, 0]

    @property
    def outputs(self) -> "NetworkOutputs":
        """``theta -> u_theta`` at the collocation points ``self.points`` (as they are when called): the
        function a trace measures its steps and its solution's conditioning on (the residual maps of the
        problems here carry it), with a per-point Jacobian (:class:`NetworkOutputs`)."""
        return NetworkOutputs(self)

    def validation_map(self, seed: int = 1) -> ResidualMap:
        """The problem's residual on fresh interior points, for ``trace(..., validation=...)``.

        As many points as ``self.points``, uniform in their bounding box
        (drawn with ``seed``); the other blocks (boundary data) unchanged.
        The corrector never sees these points: a residual much larger there
        than at the collocation points means the points do not resolve the
        solution.
        """
        return self.on_interior_points(self.uniform_points(self.points.shape[0], seed))

    def interior_box(self) -> tuple[Tensor, Tensor]:
        """The lower and upper corners of the bounding box of the interior points ``self.points``."""
        return self.points.min(dim=0).values, self.points.max(dim=0).values

    def uniform_points(self, n: int, seed: int, box: Optional[tuple[Tensor, Tensor]] = None) -> Tensor:
        """``n`` points drawn uniformly in ``box`` (lower and upper corners; default :meth:`interior_box`)."""
        generator = torch.Generator().manual_seed(seed)
        low, high = box if box is not None else self.interior_box()
        shape = (n, self.points.shape[1])
        unit = torch.rand(shape, generator=generator, dtype=self.points.dtype).to(self.points.device)
        return low + (high - low) * unit

    def move_points(self, points: Tensor) -> None:
        """Make ``points`` the interior collocation points: ``self.points`` and the residual map's interior
        block (the block built on ``self.points``) change; the other blocks stay."""
        self.residual_map = self.on_interior_points(points)
        self.points = points

    def on_interior_points(self, points: Tensor) -> ResidualMap:
        """The residual map with its interior block (the one on ``self.points``) moved to ``points``."""
        single = not isinstance(self.residual_map, StackedResidual)
        blocks = [self.residual_map] if single else self.residual_map.blocks
        if not any(isinstance(b, PointwiseResidual) and b.points is self.points for b in blocks):
            raise ValueError(f"{type(self).__name__}.residual_map has no pointwise block on self.points to move")
        moved = [b.with_points(points) if isinstance(b, PointwiseResidual) and b.points is self.points else b
                 for b in blocks]
        return moved[0] if single else StackedResidual(moved, outputs=getattr(self.residual_map, "outputs", None))

    def l2re(self, theta: Tensor, eps: float) -> float:
        """Relative L2 error against the exact solution on the test points."""
        with torch.no_grad():
            return relative_l2(self.predict(theta, self.test_points), self.exact(self.test_points, eps))

    def loss(self, theta: Tensor, eps: float) -> float:
        """The mean-squared loss ``||H||^2`` (interior mean plus weighted boundary mean)."""
        with torch.no_grad():
            residual = self.residual_map(theta, torch.tensor(eps, dtype=theta.dtype, device=theta.device))
            return float(torch.dot(residual, residual))
