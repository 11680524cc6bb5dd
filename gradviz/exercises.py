"""Quizzes with instant feedback and answer checkers that measure the right answer.

A checker never compares against a stored number: it re-measures the network the
exercise describes with gradviz and tells the learner how far off they are.
"""

from __future__ import annotations

import math
import numbers

import ipywidgets as widgets

from gradviz import _checks
from gradviz.models.mlp import MLPConfig
from gradviz.probes import probe_mlp

RIGHT, WRONG = "✅", "❌"


class Quiz:
    """A multiple-choice question that says at once whether the chosen option is right."""

    def __init__(self, question: str, options: list[str], answer: int, explanation: str):
        _checks.integer("answer", answer, low=0, high=len(options) - 1)
        self.question, self.options, self.answer = question, list(options), answer
        self.explanation = explanation
        self.choice = widgets.RadioButtons(options=self.options, value=None,
                                           layout={"width": "max-content"})
        self.feedback = widgets.HTML().add_class("gv-quiz-feedback")
        self.choice.observe(self._on_choice, names="value")
        self.widget = widgets.VBox([widgets.HTML(f"<b>{question}</b>"), self.choice,
                                    self.feedback]).add_class("gv-quiz")

    def grade(self, option: str | None) -> str:
        """Feedback for ``option`` (one of ``options``), as HTML."""
        if option is None:
            return ""
        if option == self.options[self.answer]:
            return f"{RIGHT} Right. {self.explanation}"
        return f"{WRONG} Not quite: try again. (Hint: {self.explanation.split('.')[0]}.)"

    def _on_choice(self, change) -> None:
        self.feedback.value = self.grade(change["new"])

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Quiz: {self.question}"  # stable text for nbval
        return bundle


def _report(ok: bool, message: str) -> bool:
    print(f"{RIGHT if ok else WRONG} {message}")
    return ok


def _number(name, value):
    if value is None:
        print(f"Not answered yet: set {name} to a number and run this cell again.")
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        print(f"{WRONG} {name}={value!r} is not a finite number.")
        return None
    return float(value)


def _depth_ratio(cfg: MLPConfig) -> float:
    """``||dL/dh_0|| / ||dL/dh_{L-1}||`` measured on the default batch."""
    d = probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms
    return float(d[0] / d[-1])


def check_ratio_reading(answer, *, depth=30, activation="sigmoid", init="lecun",
                        weight_scale=1.0, rel_tol=0.05) -> bool:
    """Lesson 00: the learner reads ``||dL/dh_0|| / ||dL/dh_{L-1}||`` off the explorer."""
    answer = _number("answer", answer)
    if answer is None:
        return False
    truth = _depth_ratio(MLPConfig(depth=depth, width=64, activation=activation, init=init,
                                   weight_scale=weight_scale))
    ok = answer > 0 and abs(math.log(answer / truth)) <= math.log1p(rel_tol)
    return _report(ok, f"measured ratio {truth:.3g}; you said {answer:.3g}" + (
        "." if ok else ": read the status line under the plot, e.g. '4.1e-12'."))


def check_critical_scale(weight_scale, *, depth=50, activation="tanh", init="lecun",
                         low=0.5, high=2.0) -> bool:
    """Lesson 01: a weight scale at which the gradient neither vanishes nor explodes.

    Passes when the measured ``||dL/dh_0|| / ||dL/dh_{L-1}||`` lies in ``[low, high]``.
    """
    weight_scale = _number("weight_scale", weight_scale)
    if weight_scale is None:
        return False
    if not 0 < weight_scale <= 10:
        return _report(False, f"weight_scale={weight_scale:g}: try a value between 0.1 and 4.")
    ratio = _depth_ratio(MLPConfig(depth=depth, width=64, activation=activation, init=init,
                                   weight_scale=weight_scale))
    if low <= ratio <= high:
        return _report(True, f"at weight_scale={weight_scale:g} the first layer gets "
                       f"{ratio:.3g}x the last layer's gradient: neither vanishing nor exploding.")
    trend = "vanishes: make the weights larger" if ratio < low else "explodes: make them smaller"
    return _report(False, f"at weight_scale={weight_scale:g} the ratio is {ratio:.3g}; "
                   f"the gradient {trend}.")


def check_clipped_norm(answer, *, depth=30, weight_scale=1.6, clip_norm=1.0) -> bool:
    """Lesson 01: the global gradient norm after ``optax.clip_by_global_norm(clip_norm)``."""
    answer = _number("answer", answer)
    if answer is None:
        return False
    r = probe_mlp(MLPConfig(depth=depth, width=64, activation="relu", init="he_normal",
                            weight_scale=weight_scale), seed=0, batch_size=128,
                  clip_norm=clip_norm)
    truth = min(r.global_norm, clip_norm)
    ok = math.isclose(answer, truth, rel_tol=0.02)
    return _report(ok, f"the raw global norm is {r.global_norm:.3g}; after clipping it is "
                   f"{truth:.3g}" + ("." if ok else f", not {answer:.3g}."))


def check_chain_factor(factor, *, depth=30, target=1e-3, rel_tol=0.1) -> bool:
    """Lesson 02: the per-layer factor that makes the first layer get ``target`` of the last.

    Measured on a chain of ``depth`` scalar layers (width 1, linear, weights ``+-factor``).
    """
    factor = _number("factor", factor)
    if factor is None:
        return False
    if not 0 < factor <= 4:
        return _report(False, f"factor={factor:g}: use a value between 0 and 4.")
    cfg = MLPConfig(depth=depth, width=1, in_dim=1, activation="linear", init="orthogonal",
                    weight_scale=factor)
    ratio = _depth_ratio(cfg)
    ok = abs(math.log(ratio / target)) <= math.log1p(rel_tol)
    return _report(ok, f"with factor {factor:g} the first of {depth} layers gets {ratio:.3g} of "
                   f"the last layer's gradient; the goal was {target:g}" + (
                       "." if ok else ": " + ("raise" if ratio < target else "lower")
                       + " the factor."))


def check_edge_of_chaos(sigma_w, *, sigma_b=0.3, activation="tanh", depth=50, tol=0.07) -> bool:
    """Lesson 05: a ``sigma_w`` where the measured per-layer gain is 1 (within ``tol``).

    Measures a depth-``depth``, width-64 network with LeCun weights times ``sigma_w`` and
    biases ``N(0, sigma_b**2)``, as the phase-diagram explorer does.
    """
    sigma_w = _number("sigma_w", sigma_w)
    if sigma_w is None:
        return False
    if not 0 < sigma_w <= 4:
        return _report(False, f"sigma_w={sigma_w:g}: try a value between 0.25 and 3.")
    from gradviz.probes import per_layer_gain

    cfg = MLPConfig(depth=depth, width=64, in_dim=64, activation=activation, init="lecun",
                    weight_scale=sigma_w, bias_scale=sigma_b)
    gain = per_layer_gain(probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms)
    if abs(gain - 1) <= tol:
        return _report(True, f"at sigma_w={sigma_w:g}, sigma_b={sigma_b:g} the measured gain per "
                       f"layer is {gain:.3f}: the edge of chaos.")
    side = ("ordered side (gradients vanish): increase sigma_w" if gain < 1
            else "chaotic side (gradients explode): decrease sigma_w")
    return _report(False, f"measured gain per layer {gain:.3f}, the {side}.")


def check_forget_bias(forget_bias, *, seq_len=50, hidden=32, target=0.1) -> bool:
    """Lesson 06: an LSTM forget bias that lets ``target`` of the gradient reach step 0."""
    forget_bias = _number("forget_bias", forget_bias)
    if forget_bias is None:
        return False
    if not -10 <= forget_bias <= 20:
        return _report(False, f"forget_bias={forget_bias:g}: try a value between 0 and 5.")
    from gradviz.models.rnn import RNNConfig
    from gradviz.rnn_probes import probe_rnn

    cfg = RNNConfig(cell="lstm", hidden=hidden, init="orthogonal", weight_scale=1.0,
                    seq_len=seq_len, forget_bias=forget_bias)
    d = probe_rnn(cfg, seed=0, batch_size=32).hidden_grad_norms
    ratio = float(d[0] / d[-1])
    ok = ratio >= target
    return _report(ok, f"with forget bias {forget_bias:g}, {ratio:.3g} of the last step's gradient "
                   f"reaches step 0" + ("." if ok else f": you need at least {target:g}; "
                                        "open the forget gate further."))
