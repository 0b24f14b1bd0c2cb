"""P5: steady viscous Burgers as operator learning, ``u0 -> u_inf``, physics-informed.

``u_t + u u_x = nu u_xx`` on ``(-1, 1)`` with ``u(-1) = g``, ``u(1) = -g``,
``g = tanh(1 / (2 nu))``, tends to the steady state
``u_inf(x) = -tanh(x / (2 nu))`` whatever the initial data ``u0``. A DeepONet
``u_theta(u0)(x)`` is trained without solution data on the residuals of two
homotopies (see ``../shared/spec/problems.md``, P5):

* the time homotopy in ``s`` from 1 to 0 at a fixed viscosity,
  ``H_s = (1 - s)(nu u_xx - u u_x) + s (u - u0)``: at ``s = 1`` the answer is
  ``u0`` itself, at ``s = 0`` it is the steady state. For ``0 < s < 1`` it is
  one backward-Euler step of length ``tau = (1 - s) / s`` from ``u0``, so the
  path follows the time evolution with ever longer implicit steps;
* the viscosity homotopy in ``nu`` from 1 down to the target, at ``s = 0``
  (the steady problem, whose boundary data ``+-g(nu)`` move with ``nu``);
* the seed's joint homotopy: ``s`` from 1 to 0 with ``nu`` moving from 1 to
  the target while ``s >= 1/2`` (:func:`joint_viscosity`).

The initial data are :func:`sample_initial_data`: a Gaussian random field
times ``(1 - x^2)`` plus the line ``-g x`` that meets the boundary values.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor
from torch.func import jvp

from continuation import PointwiseResidual, StackedResidual
from models import DeepONet

from .base import relative_l2

__all__ = [
    "boundary_value",
    "steady_state",
    "steady_residual",
    "RandomField",
    "sample_random_field",
    "InitialData",
    "sample_initial_data",
    "OperatorProblem",
    "BurgersOperator",
    "HOMOTOPIES",
    "joint_viscosity",
    "SPLITS",
]

HOMOTOPIES = ("time", "viscosity", "joint")
"""The homotopies of :meth:`BurgersOperator.residual_map`: in ``s``, in ``nu``, or in ``s`` with ``nu(s)``."""

SPLITS = {"train": 0, "test": 1}
"""Data splits of :func:`sample_initial_data` and the stream of random numbers each one uses."""

PERIOD = 4.0
"""Period of the spectral GRF: twice the interval, so that ``[-1, 1]`` never sees the wrap-around."""


def _check_positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value > 0
    ):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def boundary_value(nu: float) -> float:
    """``g = tanh(1 / (2 nu))``: the steady state is ``g`` at ``x = -1`` and ``-g`` at ``x = 1``.

    Examples
    --------
    >>> round(boundary_value(0.5), 6)
    0.761594
    """
    return math.tanh(1.0 / (2.0 * _check_positive("nu", nu)))


def steady_state(x: Tensor, nu) -> Tensor:
    """``u_inf(x) = -tanh(x / (2 nu))``, elementwise (any shape of ``x``).

    Examples
    --------
    >>> import torch
    >>> steady_state(torch.tensor([-1.0, 0.5, 1.0]), 0.5)
    tensor([ 0.7616, -0.4621, -0.7616])
    """
    return -torch.tanh(x / (2 * nu))


@dataclass(frozen=True)
class RandomField:
    """A batch of ``F`` Gaussian random fields ``w_i`` on ``[-1, 1]``, in closed form at any ``x``.

    ``w(x) = sum_k sqrt(c_k) (a_k cos(omega_k x) + b_k sin(omega_k x))`` with
    ``omega_k = 2 pi k / PERIOD`` and ``a_k, b_k ~ N(0, amplitude^2)``, whose
    weights ``c_k`` are the Fourier coefficients of the squared-exponential
    kernel wrapped onto the period (:func:`kernel_weights`). Its covariance is
    therefore ``amplitude^2 exp(-(x - y)^2 / (2 length_scale^2))`` on
    ``[-1, 1]`` up to the wrap-around term ``exp(-2 / length_scale^2)`` and
    the truncation at ``c_k < 1e-16 c_0``. Drawn by :func:`sample_random_field`.

    Attributes
    ----------
    cos_coefficients, sin_coefficients
        ``sqrt(c_k) a_k`` and ``sqrt(c_k) b_k``, shape ``(F, K + 1)``.
    length_scale, amplitude
        Of the squared-exponential kernel.
    """

    cos_coefficients: Tensor
    sin_coefficients: Tensor
    length_scale: float
    amplitude: float

    @property
    def count(self) -> int:
        """Number ``F`` of functions."""
        return self.cos_coefficients.shape[0]

    def field(self, x: Tensor) -> Tensor:
        """The random fields ``w_i`` at points ``x``: shared ``(N,)`` or one row per function ``(F, N)``; shape ``(F, N)``."""
        cos, sin = self.cos_coefficients.to(x.device), self.sin_coefficients.to(x.device)
        omega = 2 * math.pi * torch.arange(cos.shape[1], dtype=x.dtype, device=x.device) / PERIOD
        if x.ndim == 1:
            phase = omega[:, None] * x[None, :]
            return cos @ torch.cos(phase) + sin @ torch.sin(phase)
        phase = omega[None, :, None] * x[:, None, :]
        return torch.einsum("fk,fkn->fn", cos, torch.cos(phase)) + torch.einsum("fk,fkn->fn", sin, torch.sin(phase))

    def _check_points(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or not (x.ndim == 1 or (x.ndim == 2 and x.shape[0] == self.count)):
            raise ValueError(
                f"x must have shape (N,) or ({self.count}, N), got {getattr(x, 'shape', type(x).__name__)}"
            )

    def __call__(self, x: Tensor) -> Tensor:
        """The functions at points ``x``: shared ``(N,)`` or one row per function ``(F, N)``; shape ``(F, N)``."""
        self._check_points(x)
        return self.field(x)

    def subset(self, count: int) -> "RandomField":
        """The first ``count`` functions."""
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= self.count:
            raise ValueError(f"count must be an integer in [1, {self.count}], got {count!r}")
        return dataclasses.replace(
            self, cos_coefficients=self.cos_coefficients[:count], sin_coefficients=self.sin_coefficients[:count]
        )


@dataclass(frozen=True)
class InitialData(RandomField):
    """A batch of initial data ``u0_i(x) = (1 - x^2) w_i(x) - g x``, ``i = 1..F``.

    ``w_i`` is a :class:`RandomField`; every ``u0_i`` is defined in closed
    form at any ``x`` and meets ``u0(-1) = g``, ``u0(1) = -g``.

    Attributes
    ----------
    cos_coefficients, sin_coefficients, length_scale, amplitude
        Of the random fields ``w_i`` (:class:`RandomField`).
    g
        The boundary value ``tanh(1 / (2 nu))`` of the target viscosity.
    """

    g: float

    def __call__(self, x: Tensor) -> Tensor:
        """``u0_i`` at points ``x``: shared ``(N,)`` or one row per function ``(F, N)``; shape ``(F, N)``."""
        self._check_points(x)
        return (1 - x**2) * self.field(x) - self.g * x


def kernel_weights(length_scale: float, dtype: torch.dtype = torch.float64) -> Tensor:
    """Fourier weights ``c_k`` of the squared-exponential kernel wrapped onto the period.

    ``sum_k c_k cos(omega_k r) = sum_n exp(-(r + n PERIOD)^2 / (2 length_scale^2))``,
    truncated where ``c_k < 1e-16 c_0``.

    Examples
    --------
    >>> c = kernel_weights(0.25)
    >>> round(float(c.sum()), 12)  # the kernel at r = 0 (wrap-around terms are e^-32)
    1.0
    """
    length_scale = _check_positive("length_scale", length_scale)
    last = math.ceil(math.sqrt(2 * 16 * math.log(10)) * PERIOD / (2 * math.pi * length_scale))
    omega = 2 * math.pi * torch.arange(last + 1, dtype=dtype) / PERIOD
    weights = math.sqrt(2 * math.pi) * length_scale / PERIOD * torch.exp(-0.5 * (omega * length_scale) ** 2)
    weights[1:] *= 2
    return weights


def sample_random_field(
    count: int,
    *,
    split: str = "train",
    seed: int = 0,
    length_scale: float = 0.25,
    amplitude: float = 0.5,
    dtype: torch.dtype = torch.float64,
) -> RandomField:
    """Draw ``count`` Gaussian random fields (see :class:`RandomField`).

    Parameters
    ----------
    count
        Number of functions.
    split
        ``"train"`` or ``"test"``: the two splits draw from different random
        streams of the same ``seed``, so a test function is never a training
        one; a split with more functions extends the smaller draw (the
        first functions do not depend on ``count``).
    seed
        Seed of the draw.
    length_scale, amplitude
        Of the squared-exponential kernel.
    dtype
        Floating dtype of the coefficients.

    Examples
    --------
    >>> import torch
    >>> w = sample_random_field(2, seed=0, length_scale=0.5, amplitude=1.0)
    >>> w(torch.linspace(-1, 1, 5, dtype=torch.float64)).shape
    torch.Size([2, 5])
    >>> more = sample_random_field(5, seed=0, length_scale=0.5, amplitude=1.0)
    >>> torch.equal(w.cos_coefficients, more.cos_coefficients[:2])   # the first draws do not depend on count
    True
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    amplitude = _check_positive("amplitude", amplitude)
    weights = kernel_weights(length_scale, dtype)
    generator = torch.Generator().manual_seed(2 * seed + SPLITS[split])
    # one function at a time, so that the first functions do not depend on count
    normal = torch.stack([torch.randn(2, weights.numel(), generator=generator, dtype=dtype) for _ in range(count)])
    scale = amplitude * torch.sqrt(weights)
    sin_coefficients = scale * normal[:, 1]
    sin_coefficients[:, 0] = 0.0  # sin(0 x) = 0: keep the stored coefficients honest
    return RandomField(scale * normal[:, 0], sin_coefficients, float(length_scale), amplitude)


def sample_initial_data(
    count: int,
    nu: float,
    *,
    split: str = "train",
    seed: int = 0,
    length_scale: float = 0.25,
    amplitude: float = 0.5,
    dtype: torch.dtype = torch.float64,
) -> InitialData:
    """Draw ``count`` initial data ``u0 = (1 - x^2) w - g x`` (see :class:`InitialData`).

    Parameters
    ----------
    count
        Number of functions.
    nu
        The target viscosity, which sets ``g = tanh(1 / (2 nu))``.
    split, seed, length_scale, amplitude, dtype
        Of the draw of the random fields ``w`` (:func:`sample_random_field`).

    Examples
    --------
    >>> import torch
    >>> u0 = sample_initial_data(3, nu=0.5, seed=0)
    >>> x = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    >>> u0(x)[:, [0, 2]]  # every function meets the boundary values +-g = +-tanh(1)
    tensor([[ 0.7616, -0.7616],
            [ 0.7616, -0.7616],
            [ 0.7616, -0.7616]], dtype=torch.float64)
    """
    g = boundary_value(nu)
    fields = sample_random_field(
        count, split=split, seed=seed, length_scale=length_scale, amplitude=amplitude, dtype=dtype
    )
    return InitialData(**{f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)}, g=g)


def joint_viscosity(s: Tensor, nu_start: float, nu_target: float) -> Tensor:
    """The seed's joint schedule: ``nu`` geometric from ``nu_start`` at ``s = 1`` to ``nu_target`` at ``s = 1/2``.

    ``log nu = log nu_target + clamp(2 s - 1, 0, 1) (log nu_start - log nu_target)``;
    for ``s <= 1/2`` the viscosity stays at the target.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([1.0, 0.75, 0.5, 0.2], dtype=torch.float64)
    >>> joint_viscosity(s, 1.0, 0.01)
    tensor([1.0000, 0.1000, 0.0100, 0.0100], dtype=torch.float64)
    """
    fraction = torch.clamp(2 * s - 1, 0.0, 1.0)
    return torch.exp(math.log(nu_target) + fraction * (math.log(nu_start) - math.log(nu_target)))


def value_and_derivatives(field, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(u, u_x, u_xx)`` of a scalar field of one 1-D point ``x`` (shape ``(1,)``), by nested jvp.

    Examples
    --------
    >>> import torch
    >>> value_and_derivatives(lambda y: y[0] ** 3, torch.tensor([2.0]))
    (tensor(8.), tensor(12.), tensor(12.))
    """
    direction = torch.ones_like(x)

    def first(y: Tensor) -> tuple[Tensor, Tensor]:
        return jvp(field, (y,), (direction,))

    (u, u_x), (_, u_xx) = jvp(first, (x,), (direction,))
    return u, u_x, u_xx


def steady_residual(u: Tensor, u_x: Tensor, u_xx: Tensor, nu) -> Tensor:
    """The steady Burgers operator ``nu u_xx - u u_x`` (P5 and :mod:`pde.burgers_source`).

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([0.3], dtype=torch.float64)
    >>> u = -torch.tanh(x / 0.2)   # the steady state of nu = 0.1: the operator vanishes
    >>> bool(abs(steady_residual(u, -(1 - u**2) / 0.2, -2 * u * (1 - u**2) / 0.2**2, 0.1)) < 1e-12)
    True
    """
    return nu * u_xx - u * u_x


class OperatorProblem:
    """A physics-informed DeepONet on ``(-1, 1)``: the plumbing shared by the operator problems.

    The problem fixes the network and the sensors where the branch net reads
    its input function; a residual map is built for a set of training
    functions and collocation points, one residual row per (function, point)
    pair, each row carrying the sensor values of its function, ``x`` and the
    input function's value at ``x`` (:meth:`pairs`), so that the generic
    :class:`~continuation.PointwiseResidual` vmaps it. Subclasses write the
    residuals.

    Parameters
    ----------
    model
        A :class:`~models.DeepONet` with ``dim = 1``; default: 41 sensors,
        40 basis functions, branch and trunk with two hidden layers of 40.
    boundary_weight
        Weight of the boundary block.
    n_test
        Points of the uniform test grid on ``[-1, 1]`` (:meth:`predict`'s default).
    """

    def __init__(self, model: Optional[DeepONet] = None, boundary_weight: float = 1.0, n_test: int = 1000):
        self.model = model if model is not None else DeepONet(sensors=41, basis=40)
        if not isinstance(self.model, DeepONet) or self.model.dim != 1:
            raise ValueError(f"model must be a DeepONet with dim = 1, got {self.model!r}")
        self.boundary_weight = _check_positive("boundary_weight", boundary_weight)
        if isinstance(n_test, bool) or not isinstance(n_test, int) or n_test < 2:
            raise ValueError(f"n_test must be an integer >= 2, got {n_test!r}")
        on = {"dtype": self.model.dtype, "device": self.model.device}
        self.sensor_points = torch.linspace(-1.0, 1.0, self.model.sensors, **on)
        self.test_points = torch.linspace(-1.0, 1.0, n_test, **on)

    def collocation_points(self, count: int) -> Tensor:
        """``count`` uniform interior points of ``(-1, 1)`` (endpoints excluded), shape ``(count,)``."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a positive integer, got {count!r}")
        return torch.linspace(-1.0, 1.0, count + 2, dtype=self.model.dtype, device=self.model.device)[1:-1]

    def sensors(self, inputs: RandomField) -> Tensor:
        """The branch input: the input functions at the sensors, shape ``(F, m)``."""
        return inputs(self.sensor_points)

    def random_points(self, functions: int, count: int, seed: int = 0) -> Tensor:
        """``count`` uniform random points of ``(-1, 1)`` for each of ``functions`` functions, shape ``(F, count)``."""
        for name, value in (("functions", functions), ("count", count)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        generator = torch.Generator().manual_seed(seed)
        unit = torch.rand(functions, count, generator=generator, dtype=self.model.dtype).to(self.model.device)
        return 2 * unit - 1

    def pairs(self, inputs: RandomField, x: Tensor) -> Tensor:
        """Rows ``[input at the sensors, x_j, input(x_j)]`` for every (function, point) pair, shape ``(F N, m + 2)``.

        ``x`` is shared by the functions, shape ``(N,)``, or one row per function, ``(F, N)``.
        """
        sensors, values = self.sensors(inputs), inputs(x)
        f, n = values.shape
        points = x.expand(f, n)
        return torch.cat([sensors[:, None, :].expand(f, n, -1), points[..., None], values[..., None]], dim=2).reshape(
            f * n, -1
        )

    def split_pair(self, pair: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(sensor values, x of shape (1,), input(x))`` of one row of :meth:`pairs`."""
        m = self.model.sensors
        return pair[:m], pair[m : m + 1], pair[m + 1]

    def check_points(self, inputs: RandomField, x: Tensor) -> None:
        """Raise unless ``x`` holds interior points of ``(-1, 1)``, shared ``(N,)`` or one row per function."""
        if not isinstance(x, Tensor) or x.numel() == 0 or bool((x.abs() >= 1).any()):
            raise ValueError("x must be a non-empty tensor of points inside (-1, 1)")
        if not (x.ndim == 1 or (x.ndim == 2 and x.shape[0] == inputs.count)):
            raise ValueError(f"x must have shape (N,) or ({inputs.count}, N), got {tuple(x.shape)}")

    def predict(self, theta: Tensor, inputs: RandomField, x: Optional[Tensor] = None) -> Tensor:
        """The operator for every input function at ``x`` (default the test grid): shape ``(F, N)``."""
        x = self.test_points if x is None else x
        with torch.no_grad():
            return self.model.apply(theta, self.sensors(inputs), x[:, None])


class BurgersOperator(OperatorProblem):
    """P5: a DeepONet ``u0 -> u_inf`` trained on the physics-informed residual of Burgers.

    The problem fixes the network, the sensors where the branch net reads
    ``u0`` and the target viscosity; :meth:`residual_map` builds the residual
    map ``H(theta, eps)`` of one homotopy for a set of training functions and
    collocation points (the training data differ between the stages of a
    path); see :class:`OperatorProblem`.

    Interior residual at ``(u0, x)``: ``(1 - s)(nu u_xx - u u_x) + s (u - u0(x))``;
    boundary residual at ``x = -1, 1``: ``(1 - s)(u - u_inf(x; nu)) + s (u - u0(x))``
    (the same convex combination, so ``s = 1`` is solved exactly by ``u0``).
    The interior block is scaled by ``1 / sqrt(F N)``, the boundary block by
    ``boundary_weight / sqrt(2 F)``, so ``||H||^2`` is a mean-squared loss.

    Parameters
    ----------
    nu
        The target viscosity.
    model, boundary_weight, n_test
        See :class:`OperatorProblem`.

    Examples
    --------
    >>> import torch
    >>> problem = BurgersOperator(nu=0.1)
    >>> u0 = sample_initial_data(3, nu=0.1)
    >>> x = problem.collocation_points(20)
    >>> H = problem.residual_map(u0, x, "time")           # eps is s, at nu = 0.1
    >>> theta = problem.model.init(seed=0)
    >>> H(theta, torch.tensor(1.0, dtype=torch.float64)).shape   # 3 x 20 interior, 3 x 2 boundary
    torch.Size([66])
    """

    def __init__(
        self,
        nu: float,
        model: Optional[DeepONet] = None,
        boundary_weight: float = 1.0,
        n_test: int = 1000,
    ):
        self.nu = _check_positive("nu", nu)
        self.g = boundary_value(self.nu)
        super().__init__(model, boundary_weight, n_test)

    def interior_residual(self, theta: Tensor, pair: Tensor, s: Tensor, nu: Tensor) -> Tensor:
        """``(1 - s)(nu u_xx - u u_x) + s (u - u0(x))`` at one row of :meth:`pairs`."""
        sensors, x, u0_x = self.split_pair(pair)
        u, u_x, u_xx = value_and_derivatives(lambda y: self.model.apply_one(theta, sensors, y), x)
        return (1 - s) * steady_residual(u, u_x, u_xx, nu) + s * (u - u0_x)

    def boundary_residual(self, theta: Tensor, pair: Tensor, s: Tensor, nu: Tensor) -> Tensor:
        """``(1 - s)(u - u_inf(x; nu)) + s (u - u0(x))`` at one boundary row of :meth:`pairs`."""
        sensors, x, u0_x = self.split_pair(pair)
        u = self.model.apply_one(theta, sensors, x)
        return (1 - s) * (u - steady_state(x[0], nu)) + s * (u - u0_x)

    def residual_map(
        self,
        u0: InitialData,
        x: Tensor,
        homotopy: str,
        *,
        nu: Optional[float] = None,
        s: float = 0.0,
    ) -> StackedResidual:
        """The residual map ``H(theta, eps)`` of one homotopy on the pairs ``u0 x x``.

        Parameters
        ----------
        u0
            The training functions.
        x
            Interior collocation points inside ``(-1, 1)``: shared by the
            functions, shape ``(N,)`` (:meth:`collocation_points`), or one row
            per function, shape ``(F, N)`` (:meth:`random_points`).
        homotopy
            ``"time"``: ``eps`` is ``s`` (trace it from 1 to 0) at the fixed
            viscosity ``nu``; ``"viscosity"``: ``eps`` is ``nu`` (trace it
            from 1 down to :attr:`nu`) at the fixed ``s``; ``"joint"``, the
            seed's schedule: ``eps`` is ``s`` (from 1 to 0) and the viscosity
            follows it, :func:`joint_viscosity` (from ``nu`` at ``s = 1`` to
            the target at ``s = 1/2``, then fixed).
        nu
            Viscosity of the time homotopy (default: the target :attr:`nu`),
            or the starting viscosity of the joint one (default 1).
        s
            ``s`` of the viscosity homotopy (default 0: the steady problem).
        """
        if homotopy not in HOMOTOPIES:
            raise ValueError(f"homotopy must be one of {HOMOTOPIES}, got {homotopy!r}")
        self.check_points(u0, x)
        if not (isinstance(s, (int, float)) and 0.0 <= s <= 1.0):
            raise ValueError(f"s must be a number in [0, 1], got {s!r}")
        given_nu = None if nu is None else _check_positive("nu", nu)
        fixed_nu = self.nu if given_nu is None else given_nu
        start_nu = 1.0 if given_nu is None else given_nu
        ends = torch.tensor([-1.0, 1.0], dtype=self.model.dtype, device=self.model.device)
        blocks = []
        for residual, points, weight in (
            (self.interior_residual, self.pairs(u0, x), 1.0),
            (self.boundary_residual, self.pairs(u0, ends), self.boundary_weight),
        ):
            if homotopy == "time":
                fn = lambda theta, pair, eps, r=residual: r(theta, pair, eps, fixed_nu)  # noqa: E731
            elif homotopy == "joint":
                fn = lambda theta, pair, eps, r=residual: r(  # noqa: E731
                    theta, pair, eps, joint_viscosity(eps, start_nu, self.nu)
                )
            else:
                fn = lambda theta, pair, eps, r=residual: r(theta, pair, s, eps)  # noqa: E731
            blocks.append(PointwiseResidual(fn, points, weight))
        return StackedResidual(blocks)

    def l2re(self, theta: Tensor, u0: InitialData) -> Tensor:
        """Relative L2 error of each function's prediction against ``u_inf`` on the test grid, shape ``(F,)``."""
        exact = steady_state(self.test_points, self.nu)
        prediction = self.predict(theta, u0)
        errors = [relative_l2(row, exact) for row in prediction]
        return torch.tensor(errors, dtype=prediction.dtype, device=prediction.device)
