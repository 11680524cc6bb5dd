"""Recurrent networks (vanilla RNN, LSTM, GRU) run with ``lax.scan``, and the adding problem.

A cell reads ``x_t`` (``t = 0, ..., T-1``) and updates its hidden state, starting from
``h_{-1} = 0`` (and ``c_{-1} = 0`` for the LSTM); a linear readout of the last state is the
prediction, ``y_hat = h_{T-1} W_out + b_out``. Every gate ``k`` of a cell has its own input
matrix ``W_k`` (``in_dim x hidden``, LeCun normal), recurrent matrix ``U_k`` (``hidden x
hidden``, ``init`` times ``weight_scale``) and bias ``b_k`` (``N(0, bias_scale**2)``):

.. math::
    \\text{rnn:}\\quad h_t = \\phi(x_t W_h + h_{t-1} U_h + b_h)

    \\text{lstm:}\\quad i, f, o = \\sigma(x_t W_{i,f,o} + h_{t-1} U_{i,f,o} + b_{i,f,o}), \\;
    g = \\tanh(x_t W_g + h_{t-1} U_g + b_g), \\;
    c_t = f \\odot c_{t-1} + i \\odot g, \\; h_t = o \\odot \\tanh(c_t)

    \\text{gru:}\\quad z, r = \\sigma(x_t W_{z,r} + h_{t-1} U_{z,r} + b_{z,r}), \\;
    \\tilde h_t = \\tanh(x_t W_h + (r \\odot h_{t-1}) U_h + b_h), \\;
    h_t = z \\odot h_{t-1} + (1 - z) \\odot \\tilde h_t

The GRU is Cho et al.'s form (arXiv:1406.1078v3): the reset gate multiplies ``h_{t-1}``
*before* ``U_h`` (cuDNN, PyTorch and Keras' ``reset_after=True`` apply it after), and ``z``
keeps the old state.

Backpropagation through time multiplies ``dL/dh_t`` by one Jacobian per step,
``dh_{t+1}/dh_t = diag(phi'(.)) U_h^T`` for the vanilla cell, so
``||dL/dh_t|| <= (gamma * sigma_max(U_h))**(T-1-t) ||dL/dh_{T-1}||`` with ``gamma`` the bound
on ``|phi'|`` (Pascanu et al. 2013). The LSTM's cell state adds a path scaled by the forget
gate alone, which is how it keeps gradients alive over long spans.

References:
    Hochreiter & Schmidhuber 1997, "Long Short-Term Memory", Neural Computation 9(8)
    (LSTM; their experiment 4 is the first adding problem: values in [-1, 1], the first
    marker within the first ten steps, target 0.5 + (X1 + X2) / 4). Le, Jaitly & Hinton
    2015, arXiv:1504.00941 (the form used here: values in [0, 1], one marker in each
    half, target X1 + X2). Cho et al. 2014, arXiv:1406.1078 (GRU).
    Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural
    networks", arXiv:1211.5063.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers

import jax
import jax.numpy as jnp
from jax import lax

from gradviz import _checks, activations, init
from gradviz._cache import fast_on_host

CELLS = ("rnn", "lstm", "gru")
GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("z", "r", "h")}
ADDING_BASELINE_MSE = 1.0 / 6.0  # MSE of always predicting E[y] = 1: Var(U1 + U2) = 2 / 12


@dataclasses.dataclass(frozen=True)
class RNNConfig:
    """Frozen, hashable description of a recurrent network; validated on construction.

    ``activation`` is the vanilla cell's ``phi``. The LSTM and GRU ignore it: their gates
    are always ``sigmoid`` and their candidate (and the LSTM's output squashing) ``tanh``.
    """

    cell: str = "rnn"             # one of CELLS
    hidden: int = 64              # units of the hidden state h_t
    activation: str = "tanh"      # phi of the vanilla cell, a name in activations.NAMES
    init: str = "lecun"           # scheme of every recurrent matrix U_k, a name in init.NAMES
    weight_scale: float = 1.0     # s in U_k = s * U0 (input and readout weights are unscaled)
    seq_len: int = 50             # time steps T
    in_dim: int = 2               # input features (2 for the adding problem)
    out_dim: int = 1              # regression targets
    bias_scale: float = 0.0       # biases ~ N(0, bias_scale**2)
    forget_bias: float = 0.0      # added to the LSTM's b_f; +1 is the common trick
    init_std: float = 0.01        # std of init="normal"

    def __post_init__(self):
        _checks.one_of("cell", self.cell, CELLS)
        _checks.integer("hidden", self.hidden, low=1)
        _checks.one_of("activation", self.activation, activations.NAMES)
        _checks.one_of("init", self.init, init.NAMES)
        _checks.real("weight_scale", self.weight_scale, low=0.0)
        _checks.integer("seq_len", self.seq_len, low=1)
        _checks.integer("in_dim", self.in_dim, low=1)
        _checks.integer("out_dim", self.out_dim, low=1)
        _checks.real("bias_scale", self.bias_scale, low=0.0)
        _checks.real("init_std", self.init_std, low=0.0)
        fb = self.forget_bias
        if isinstance(fb, bool) or not isinstance(fb, numbers.Real) or not math.isfinite(fb):
            raise ValueError(f"forget_bias={fb!r} must be a finite number")


def param_shapes(cfg: RNNConfig) -> dict:
    """The shape of every entry of :func:`init_rnn`'s pytree, as the same nested dict."""
    gates = GATES[cfg.cell]
    return {"w_in": {k: (cfg.in_dim, cfg.hidden) for k in gates},
            "w_rec": {k: (cfg.hidden, cfg.hidden) for k in gates},
            "b": {k: (cfg.hidden,) for k in gates},
            "readout": {"w": (cfg.hidden, cfg.out_dim), "b": (cfg.out_dim,)}}


def init_rnn(cfg: RNNConfig, key) -> dict:
    """Draw parameters ``{"w_in", "w_rec", "b": {gate: array}, "readout": {"w", "b"}}``.

    Gates are ``GATES[cfg.cell]``: ``("h",)`` for the vanilla cell, ``("i", "f", "g",
    "o")`` for the LSTM, ``("z", "r", "h")`` for the GRU. Each gate's recurrent matrix is
    its own draw of the scheme ``cfg.init`` (:mod:`gradviz.init`, fan-in = fan-out =
    ``hidden``) times ``weight_scale``, so ``init="orthogonal"`` makes every ``U_k``
    orthogonal (times ``weight_scale``). Input and readout weights are LeCun normal,
    biases ``N(0, bias_scale**2)``; the LSTM's forget bias gets ``+ forget_bias`` on top
    (Gers et al. 2000 suggest +1 so that ``f`` starts near 1 and the cell state is kept).
    The same key gives the same unit draws whatever the scales, so a weight-scale slider
    rescales one network instead of drawing a new one (and never recompiles).
    """
    if not isinstance(cfg, RNNConfig):
        raise ValueError(f"cfg={cfg!r} must be an RNNConfig")
    unit = _draw_unit(key, init.NAMES.index(cfg.init), cfg.init_std, cell=cfg.cell,
                      hidden=cfg.hidden, in_dim=cfg.in_dim, out_dim=cfg.out_dim)
    forget = {k: cfg.forget_bias if (cfg.cell, k) == ("lstm", "f") else 0.0 for k in unit["b"]}
    return {"w_in": unit["w_in"],
            "w_rec": {k: cfg.weight_scale * w for k, w in unit["w_rec"].items()},
            "b": {k: cfg.bias_scale * b + forget[k] for k, b in unit["b"].items()},
            "readout": {"w": unit["readout"]["w"],
                        "b": cfg.bias_scale * unit["readout"]["b"]}}


def _draw_unit(key, init_index, init_std, *, cell, hidden, in_dim, out_dim):
    """:func:`init_rnn`'s draws at ``weight_scale = 1``, standard-normal biases, no forget bias.

    ``init_index`` (into ``gradviz.init.NAMES``) is traced, and the recurrent matrices (the
    costly compile: every scheme is a branch of one switch) are drawn for the most gates a
    cell has and cut to the first ``len(GATES[cell])``: one compile serves every scheme and
    every cell. Matrix ``n`` comes from ``fold_in(k_rec, n)`` whatever the stack size
    (:func:`gradviz.init.draw_stacks`), so the cut gives the draws a per-cell stack would.
    """
    k_in, k_rec, k_b, k_out, k_bout = jax.random.split(key, 5)
    w_rec = _draw_recurrent(k_rec, init_index, init_std, hidden=hidden)  # (4, H, H)
    return _draw_rest(k_in, k_b, k_out, k_bout, w_rec, cell=cell, hidden=hidden,
                      in_dim=in_dim, out_dim=out_dim)


_MAX_GATES = max(len(g) for g in GATES.values())


@functools.partial(fast_on_host, static_argnames=("hidden",))
def _draw_recurrent(k_rec, init_index, init_std, *, hidden):
    """``(_MAX_GATES, hidden, hidden)`` recurrent matrices of scheme ``NAMES[init_index]``."""
    (w_rec,) = init.draw_stacks(init_index, [k_rec], [(_MAX_GATES, hidden, hidden)],
                                std=init_std)
    return w_rec


@functools.partial(fast_on_host, static_argnames=("cell", "hidden", "in_dim", "out_dim"))
def _draw_rest(k_in, k_b, k_out, k_bout, w_rec, *, cell, hidden, in_dim, out_dim):
    """The per-cell draws (no scheme switch: cheap to compile), and ``w_rec`` cut per gate."""
    gates, G = GATES[cell], len(GATES[cell])
    w_in = init.draw("lecun", k_in, in_dim, G * hidden)  # (in_dim, G*H): Var = 1 / in_dim
    b = jax.random.normal(k_b, (G, hidden))  # (G, H)
    return {"w_in": {k: w_in[:, n * hidden:(n + 1) * hidden] for n, k in enumerate(gates)},
            "w_rec": {k: w_rec[n] for n, k in enumerate(gates)},
            "b": {k: b[n] for n, k in enumerate(gates)},
            "readout": {"w": init.draw("lecun", k_out, hidden, out_dim),  # (H, out_dim)
                        "b": jax.random.normal(k_bout, (out_dim,))}}


def _concat(tree: dict, gates) -> jax.Array:
    """The per-gate matrices side by side, ``(..., len(gates) * hidden)``: one matmul per step."""
    return jnp.concatenate([tree[k] for k in gates], axis=-1)


def apply_rnn(params: dict, xs, cfg: RNNConfig, shifts=None):
    """Run the cell over ``xs: (batch, T, in_dim)``; return ``(y_hat, hs)``.

    Args:
        params: from :func:`init_rnn`.
        xs: ``(batch, T, in_dim)`` inputs, time on axis 1.
        cfg: the network (``cfg.seq_len`` is not enforced here; ``T`` comes from ``xs``).
        shifts: optional ``(T, batch, hidden)``, added to each new state:
            ``h_t <- h_t + shifts[t]``, so ``dL/dshifts[t] = dL/dh_t`` (at zero shifts).

    Returns:
        ``y_hat: (batch, out_dim)``, the readout of ``h_{T-1}``, and ``hs: (T, batch,
        hidden)``, every hidden state.
    """
    gates, H = GATES[cfg.cell], cfg.hidden
    batch, T = xs.shape[0], xs.shape[1]
    w_rec = _concat(params["w_rec"], gates)  # (H, G*H)
    u = jnp.einsum("bti,ij->tbj", xs, _concat(params["w_in"], gates))  # (T, batch, G*H)
    u = u + _concat(params["b"], gates)  # input drive of every step, computed up front
    dtype = u.dtype
    if shifts is None:
        shifts = jnp.zeros((T, batch, H), dtype)
    h0 = jnp.zeros((batch, H), dtype)

    if cfg.cell == "rnn":
        phi = activations.get(cfg.activation)

        def step(h, inp):
            u_t, s_t = inp
            h = phi(u_t + h @ w_rec) + s_t  # (batch, H)
            return h, h

        carry = h0
    elif cfg.cell == "lstm":
        def step(carry, inp):
            (h, c), (u_t, s_t) = carry, inp
            i, f, g, o = jnp.split(u_t + h @ w_rec, 4, axis=-1)  # 4 x (batch, H)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c) + s_t  # (batch, H)
            return (h, c), h

        carry = (h0, h0)
    else:  # gru
        w_zr, w_h = w_rec[:, :2 * H], w_rec[:, 2 * H:]  # (H, 2H), (H, H)

        def step(h, inp):
            u_t, s_t = inp
            z, r = jnp.split(jax.nn.sigmoid(u_t[:, :2 * H] + h @ w_zr), 2, axis=-1)
            h_tilde = jnp.tanh(u_t[:, 2 * H:] + (r * h) @ w_h)  # (batch, H)
            h = z * h + (1.0 - z) * h_tilde + s_t
            return h, h

        carry = h0
    _, hs = lax.scan(step, carry, (u, shifts))  # (T, batch, H)
    y = hs[-1] @ params["readout"]["w"] + params["readout"]["b"]  # (batch, out_dim)
    return y, hs


@functools.partial(fast_on_host, static_argnames=("batch_size", "seq_len"))
def _adding_batch(key, batch_size: int, seq_len: int):
    """The adding problem from ``key`` (traceable; see :func:`adding_problem`)."""
    k_val, k_first, k_second = jax.random.split(key, 3)
    half = seq_len // 2
    values = jax.random.uniform(k_val, (batch_size, seq_len))  # (batch, T)
    first = jax.random.randint(k_first, (batch_size,), 0, half)
    second = jax.random.randint(k_second, (batch_size,), half, seq_len)
    marks = (jax.nn.one_hot(first, seq_len) + jax.nn.one_hot(second, seq_len))  # (batch, T)
    xs = jnp.stack([values, marks], axis=-1)  # (batch, T, 2)
    y = jnp.sum(values * marks, axis=1, keepdims=True)  # (batch, 1)
    return xs, y


def adding_problem(seed: int, batch_size: int, seq_len: int):
    """One batch of the adding problem in Le, Jaitly & Hinton's (2015) form.

    (Hochreiter & Schmidhuber's 1997 experiment 4 is an older variant: values in [-1, 1],
    the first marker early, target ``0.5 + (X1 + X2) / 4``.) Using only the late marked
    number perfectly (predicting ``v_b + 0.5``) scores ``Var(v_a) = 1/12``.

    Channel 0 of ``xs`` holds numbers ``v_t ~ U[0, 1]``; channel 1 is a marker, 1 at exactly
    two steps, ``a`` in the first half ``[0, T // 2)`` and ``b`` in the second half
    ``[T // 2, T)``, 0 elsewhere. The target is ``y = v_a + v_b``: to solve it the network
    must carry ``v_a`` across up to ``T - 1`` steps. Predicting the mean ``E[y] = 1`` scores
    ``MSE = Var(y) = 1/6`` (:data:`ADDING_BASELINE_MSE`), the bar a learner must beat.

    Drawn from ``fold_in(PRNGKey(seed), 1)``: the same batch for the same seed, never sharing
    bits with ``init_rnn(cfg, PRNGKey(seed))``.

    Returns:
        ``xs: (batch_size, seq_len, 2)`` float32 and ``y: (batch_size, 1)``.
    """
    seed = _checks.integer("seed", seed, low=0)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    try:
        seq_len = _checks.integer("seq_len", seq_len, low=2)
    except ValueError as err:
        raise ValueError(f"{err} for the adding problem (one marker in each half)") from None
    return _adding_batch(jax.random.fold_in(jax.random.PRNGKey(seed), 1), batch_size, seq_len)
