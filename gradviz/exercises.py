"""Quizzes with instant feedback and answer checkers that measure the right answer.

A checker never compares against a stored number: it re-measures the network the
exercise describes with gradviz and tells the learner how far off they are.
"""

from __future__ import annotations

import html
import math
import numbers

import ipywidgets as widgets
import numpy as np

from gradviz import _checks, preview
from gradviz.models.mlp import MLPConfig
from gradviz.probes import probe_mlp

RIGHT, WRONG = "✅", "❌"
NO_HINT = "Not quite: reread the question and try again."  # a wrong answer, no hint given


class Quiz:
    """A multiple-choice question that says at once whether the chosen option is right.

    A right answer shows ``explanation``; a wrong one shows ``hint`` (write one that
    points the way without naming the answer) or, without a hint, :data:`NO_HINT`. The
    explanation is never cut up for a hint: its first sentence may give the answer away,
    and splitting at the first ``.`` breaks at decimal points (``"... is 0."``).
    """

    def __init__(self, question: str, options: list[str], answer: int, explanation: str,
                 *, hint: str | None = None):
        _checks.integer("answer", answer, low=0, high=len(options) - 1)
        if hint is not None and (not isinstance(hint, str) or not hint.strip()):
            raise ValueError(f"hint={hint!r} must be a non-empty string (or None for the "
                             "neutral 'reread the question' message)")
        self.question, self.options, self.answer = question, list(options), answer
        self.explanation, self.hint = explanation, hint
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
        if self.hint is None:
            return f"{WRONG} {NO_HINT}"
        return f"{WRONG} Not quite: try again. Hint: {self.hint}"

    def _on_choice(self, change) -> None:
        self.feedback.value = self.grade(change["new"])

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"Quiz: {self.question}"  # stable text for nbval
        if preview.building():  # a static copy for the committed lesson (see preview)
            items = "".join(f"<li>{html.escape(o)}</li>" for o in self.options)
            bundle["text/html"] = (f"<p><b>{html.escape(self.question)}</b></p><ul>{items}</ul>"
                                   "<p><i>Run the notebook to answer and get feedback.</i></p>")
        return bundle


def _report(ok: bool, message: str) -> bool:
    print(f"{RIGHT if ok else WRONG} {message}")
    return bool(ok)


def _not_a_number(value) -> str | None:
    """Why ``value`` is not one finite real number, or None when it is one.

    Accepts Python ints and floats, numpy scalars and 0-d numpy or JAX arrays of an
    integer or float dtype; rejects bools, strings, complex numbers, arrays of more than
    one number, inf and nan.
    """
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return f"is a {type(value).__name__}, not a number"
    if not isinstance(value, numbers.Real):  # numpy / JAX arrays, complex, anything else
        try:
            arr = np.asarray(value)
        except Exception:  # noqa: BLE001 - whatever it is, it is not a number
            return "is not a number"
        if arr.ndim != 0:
            return f"has shape {arr.shape}: give one number"
        if arr.dtype.kind not in "iuf":
            return f"has dtype {arr.dtype}: give a real number"
    return None if math.isfinite(float(value)) else "is not finite"


def _number(name, value):
    """``value`` as a float, or None after printing one line that says what is wrong."""
    if value is None:
        print(f"Not answered yet: set {name} to a number and run this cell again.")
        return None
    why = _not_a_number(value)
    if why is not None:
        print(f"{WRONG} {name}={value!r} {why}; set {name} to one finite number, e.g. 0.5.")
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
    if ok:
        return _report(True, f"measured ratio {truth:.3g}; you said {answer:.3g}.")
    return _report(False, _reading_hint(answer, truth, rel_tol))


def _reading_hint(answer: float, truth: float, rel_tol: float) -> str:
    """How ``answer`` misses ``truth`` (a positive ratio), without saying what ``truth`` is."""
    how = ("read the status line under the plot: the number right before 'measured', "
           "e.g. '4.1e-12' means 4.1 x 10^-12.")
    if not answer > 0:
        return f"you said {answer:.3g}, but a ratio of two norms is positive: {how}"
    decades = math.log10(answer / truth)
    side = "high" if decades > 0 else "low"
    if abs(decades) >= 1:
        order = "the order" if (answer > 1) != (truth > 1) else "the exponent"
        return (f"you said {answer:.3g}, about {round(abs(decades))} orders of magnitude too "
                f"{side}: check {order} (first layer over last layer); {how}")
    return (f"you said {answer:.3g}: the right order of magnitude, but more than "
            f"{rel_tol:.0%} too {side}; {how}")


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


def check_chain_factor(factor, *, depth=30, target=1e-3, rel_tol=0.5) -> bool:
    """Lesson 02: the per-layer factor that makes the first layer get ``target`` of the last.

    Measured on a chain of ``depth`` scalar layers (width 1, linear, weights ``+-factor``).
    Passes when the ratio is within a factor ``1 + rel_tol`` of ``target``. The default 1.5
    is what the explorer's weight-scale slider can reach: it steps by ``10**0.01`` (2.3%),
    which moves ``factor**29`` by ``10**0.29``, about 2x, so a 10% tolerance would fall
    between two slider settings (0.776 -> 6.4e-4, 0.794 -> 1.26e-3 at depth 30).
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


def _deep_saturation(weight_scale: float, depth: int) -> float:
    from gradviz.probes import activation_stats

    cfg = MLPConfig(depth=depth, width=64, activation="tanh", init="lecun",
                    weight_scale=weight_scale)
    return float(activation_stats(cfg, seed=0, batch_size=128)["saturated"][depth // 2:].mean())


def check_half_saturated(weight_scale, *, depth=30, low=0.45, high=0.55) -> bool:
    """Lesson 03: a tanh weight scale at which half of the deep layers' entries saturate.

    Measures the saturated fraction (``|tanh h| > 0.97``) averaged over the deeper half
    of a depth-``depth``, width-64 LeCun network times ``weight_scale``.
    """
    weight_scale = _number("weight_scale", weight_scale)
    if weight_scale is None:
        return False
    if not 0 < weight_scale <= 10:
        return _report(False, f"weight_scale={weight_scale:g}: try a value between 0.1 and 4.")
    frac = _deep_saturation(weight_scale, depth)
    ok = low <= frac <= high
    hint = "" if ok else (": larger weights push more units into the flat tails"
                          if frac < low else ": smaller weights keep more units in the middle")
    return _report(ok, f"at weight_scale={weight_scale:g}, {frac:.1%} of the deep layers' "
                   f"entries are saturated; the goal was {low:.0%} to {high:.0%}{hint}.")


LR_TASK = {"depth": 10, "width": 32, "activation": "relu", "init": "he_normal"}


def diverges(learning_rate: float, steps: int = 100) -> bool:
    """Lesson 03: True if plain SGD at ``learning_rate`` on lesson 03's network diverges.

    Trains ``MLPConfig(**LR_TASK)`` (10 ReLU layers of width 32, He weights, seed 0) on
    ``teacher_regression(0, 256, 16)``, full batch, for ``steps`` steps with
    :func:`gradviz.train_mlp`; diverged means some loss became inf or nan. This is the run
    :func:`check_stable_learning_rate` judges and the lesson's ``TrainingExplorer`` shows.
    """
    from gradviz.data import teacher_regression
    from gradviz.train import train_mlp

    learning_rate = _checks.real("learning_rate", learning_rate, low=0.0, inclusive=False)
    x, y = teacher_regression(0, 256, 16)
    h = train_mlp(MLPConfig(**LR_TASK), "sgd", learning_rate, steps=steps, x=x, y=y)
    return h.diverged_at is not None



def check_stable_learning_rate(learning_rate, *, factor=1.5) -> bool:
    """Lesson 03: the largest SGD learning rate that does not diverge, within ``factor``.

    Passes when 100 steps at ``learning_rate`` stay finite and 100 steps at ``factor``
    times it diverge (the network and task of ``LR_TASK``, the teacher regression).
    """
    learning_rate = _number("learning_rate", learning_rate)
    if learning_rate is None:
        return False
    if not 0 < learning_rate <= 100:
        return _report(False, f"learning_rate={learning_rate:g}: try a value between 1e-3 "
                       "and 1.")
    if diverges(learning_rate):
        return _report(False, f"at learning_rate={learning_rate:g} the run diverges: go lower.")
    if not diverges(learning_rate * factor):
        return _report(False, f"learning_rate={learning_rate:g} is stable, and so is "
                       f"{factor:g}x it ({learning_rate * factor:.3g}): go higher.")
    return _report(True, f"{learning_rate:g} trains for 100 steps and {learning_rate * factor:.3g} "
                   "diverges: you found the edge.")


TRAIN_TASK = {"depth": 20, "width": 32, "activation": "relu", "init": "he_normal"}


def _train_task(weight_scale=1.0, learning_rate=0.01, clip_norm=None):
    """100 SGD steps of ``TRAIN_TASK`` at ``weight_scale``: exactly the run lesson 04's
    :class:`~gradviz.widgets.TrainingExplorer` shows at its defaults (its weights, drawn
    from seed 0 for 50 layers, its 128 teacher examples, its engine
    :func:`gradviz.train.train_stacked`), so the checker judges the network and data the
    learner watched, and reuses the explorer's compiled program."""
    import jax

    from gradviz import activations, init
    from gradviz.data import teacher_regression
    from gradviz.models.mlp import draw_stack
    from gradviz.train import TrainHistory, train_stacked

    x, y = teacher_regression(0, TASK_EXAMPLES, 16)
    stack = draw_stack(jax.random.PRNGKey(0), init.NAMES.index(TRAIN_TASK["init"]), 0.01,
                       in_dim=16, width=TRAIN_TASK["width"], out_dim=1, max_depth=50)
    depth = TRAIN_TASK["depth"]
    out = jax.device_get(train_stacked(
        stack, x, y, depth, activations.NAMES.index(TRAIN_TASK["activation"]),
        float(weight_scale), float(learning_rate), -1.0 if clip_norm is None else float(clip_norm),
        steps=100))
    done = int(out["done"])
    loss = np.asarray(out["loss"][:done])
    return TrainHistory(loss, np.asarray(out["grad_norms"][:done, :depth]),
                        np.asarray(out["update_ratios"][:done, :depth]),
                        None if np.isfinite(loss[-1]) else done - 1, None, None)


TASK_EXAMPLES = 128  # the training explorer's teacher examples (lesson 04)


LAST_K = 10  # oscillating runs are judged on the mean loss of their last LAST_K steps


def _task_baseline() -> float:
    """``Var(y)`` of the explorer's 128-example teacher task: the loss of predicting the mean."""
    from gradviz.data import teacher_regression

    _, y = teacher_regression(0, TASK_EXAMPLES, 16)
    return float(np.var(np.asarray(y)))


def _late_loss(h) -> float:
    """Mean loss over the last :data:`LAST_K` steps: one step of a bouncing run can be
    far above or below where the run really is."""
    return float(np.mean(h.loss[-LAST_K:]))


def check_update_ratio(learning_rate, *, low=5e-4, high=2e-3, trained=0.5) -> bool:
    """Lesson 04: an SGD learning rate whose median update ratio is about 1e-3 *and* trains.

    Trains ``TRAIN_TASK`` (the training explorer's 20-layer ReLU + He run on its 128 teacher
    examples, :func:`_train_task`) for 100 steps and
    takes the median of ``||Delta W_l|| / ||W_l||`` over every step and layer; the run must
    not diverge and its mean loss over the last :data:`LAST_K` steps must be below
    ``trained`` times the predict-the-mean baseline ``Var(y)``. The ratio is not monotone
    in the learning rate (past the stable range the run stops learning and its ratio
    falls), so the advice for a failed run does not come from the ratio alone: a run whose
    loss rose above its starting value within its first 20 steps overshoots, and is told to
    go lower (measured on that run: every slider rate from 0.056 up that does not diverge
    overshoots).
    """
    learning_rate = _number("learning_rate", learning_rate)
    if learning_rate is None:
        return False
    if not 0 < learning_rate <= 10:
        return _report(False, f"learning_rate={learning_rate:g}: try a value between 1e-4 "
                       "and 1.")
    h = _train_task(learning_rate=learning_rate)
    if h.diverged_at is not None:
        return _report(False, f"at learning_rate={learning_rate:g} the run diverged at step "
                       f"{h.diverged_at}: go lower.")
    ratio, late, goal = float(np.median(h.update_ratios)), _late_loss(h), trained * _task_baseline()
    in_range, learns = low <= ratio <= high, late < goal
    said = (f"median update ratio {ratio:.2g} (goal {low:g} to {high:g}); mean loss of the "
            f"last {LAST_K} steps {late:.3g} (goal below {goal:.3g}, {trained:g} x the "
            "predict-the-mean baseline)")
    if in_range and learns:
        return _report(True, said + ".")
    if ratio > high:
        return _report(False, said + ": lower the learning rate.")
    overshoot = float(np.max(h.loss[:20])) > float(h.loss[0])
    advice = ("lower the learning rate: the loss rose above its starting value within the "
              "first 20 steps, so this rate overshoots (past the stable range the network stops "
              "learning and the ratio falls again)" if overshoot else "raise the learning rate")
    return _report(False, f"{said}: {advice}.")


def check_clip_rescue(clip_norm, *, weight_scale=1.5, learning_rate=0.01, margin=0.99,
                      target=None) -> bool:
    """Lesson 04: a clip threshold that rescues the exploding run of ``TRAIN_TASK``.

    At ``weight_scale`` the first SGD step already overflows; with
    ``optax.clip_by_global_norm(clip_norm)`` the run must finish 100 steps with a mean loss
    over its last :data:`LAST_K` steps below ``margin`` times the predict-the-mean baseline
    ``Var(y) = 0.627`` of the explorer's 128 examples: below it, the network has learned
    something beyond the mean (the margin keeps a run that merely sits at the mean from
    passing).
    ``target``, if given, replaces ``margin * Var(y)`` by a fixed goal (the keyword of the
    earlier version, kept for callers that pass it).
    """
    clip_norm = _number("clip_norm", clip_norm)
    if clip_norm is None:
        return False
    if not 0 < clip_norm:
        return _report(False, f"clip_norm={clip_norm:g} must be > 0.")
    h = _train_task(weight_scale=weight_scale, learning_rate=learning_rate, clip_norm=clip_norm)
    if h.diverged_at is not None:
        return _report(False, f"with clip_norm={clip_norm:g} the run still diverges at step "
                       f"{h.diverged_at}: clip harder (a smaller threshold).")
    baseline = _task_baseline()
    late, target = _late_loss(h), margin * baseline if target is None else float(target)
    ok = late < target
    if ok:
        hint = "."
    elif late > h.loss[0] or not np.isfinite(late):
        hint = f", not below {target:.3g}: the loss grew, so the clip is too loose; lower it."
    elif clip_norm >= 300:
        hint = (f", not below {target:.3g}: the first huge steps got through and left the "
                "network predicting the mean; lower the threshold.")
    else:
        hint = (f", not below {target:.3g}: each clipped step is at most learning_rate x "
                "clip_norm long, so a tight clip crawls; loosen it.")
    return _report(ok, f"with clip_norm={clip_norm:g} the run finishes; the loss went "
                   f"{h.loss[0]:.3g} -> {late:.3g} (mean of the last {LAST_K} steps; the "
                   f"predict-the-mean baseline is {baseline:.3g}){hint}")


def check_sigmoid_cure(cfg, *, depth=50, low=0.1, high=10.0) -> bool:
    """Lesson 07: a sigmoid network of ``depth`` layers whose gradient reaches the input.

    ``cfg`` must be an :class:`~gradviz.MLPConfig` with ``activation="sigmoid"`` and at
    least ``depth`` layers; it passes when ``||dL/dh_0|| / ||dL/dh_L-1||``, measured with
    :func:`gradviz.probe_mlp` (seed 0, batch 128), lies in ``[low, high]``.
    """
    if cfg is None:
        return _report(False, "replace None with an MLPConfig, e.g. gv.MLPConfig(depth=50, "
                       "activation='sigmoid', ...).")
    if not isinstance(cfg, MLPConfig):
        return _report(False, f"cfg={cfg!r} is not an MLPConfig.")
    if cfg.activation != "sigmoid" or cfg.depth < depth:
        return _report(False, f"the exercise asks for activation='sigmoid' and depth >= {depth}; "
                       f"you have activation={cfg.activation!r}, depth={cfg.depth}.")
    d = probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms
    with np.errstate(all="ignore"):
        ratio = float(d[0] / d[-1])
    ok = low <= ratio <= high
    advice = ("." if ok else
              f": it must lie between {low:g} and {high:g}. "
              + ("The gradient still vanishes: which fix changes the product of "
                 "factors itself?" if not ratio >= low else
                 "Now it grows toward the input: too much of a cure (batch norm and "
                 "skips each add growth, and together they multiply; so does a weight "
                 "scale past sigmoid's critical one): use one, or less of it."))
    return _report(ok, f"measured ||dL/dh_0|| / ||dL/dh_{cfg.depth - 1}|| = {ratio:.3g}" + advice)


def check_cliff_clip(clip_norm, *, learning_rate=0.01, steps=30, target=0.05,
                     last=5) -> bool:
    """Lesson 08: a clip threshold that lets gradient descent, started on the cliff face of
    :mod:`gradviz.cliff`, settle below loss ``target`` within ``steps`` SGD steps.

    A clipped run can bounce between two losses (at ``clip_norm=0.15`` it alternates 2.95
    and 0.022), so the run is judged on its ``last`` losses: all of them must be below
    ``target``, not only the final one.
    """
    clip_norm = _number("clip_norm", clip_norm)
    if clip_norm is None:
        return False
    if not clip_norm > 0:
        return _report(False, f"clip_norm={clip_norm:g}: a threshold must be positive.")
    from gradviz import cliff

    run = cliff.descend(cliff.wall(), learning_rate, steps, clip_norm=clip_norm)
    tail = np.asarray(run["loss"][-last:], dtype=float)
    worst = float(np.max(tail)) if np.all(np.isfinite(tail)) else math.inf
    ok = worst < target
    longest = float(np.max(np.abs(np.diff(run["w"]))))
    bouncing = float(np.min(tail)) < target <= worst
    return _report(ok, f"with clip_norm={clip_norm:g} the last {last} of {steps} losses lie "
                   f"between {float(np.min(tail)):.3g} and {worst:.3g} (longest step "
                   f"{longest:.3g})" + ("." if ok else
                   f": all of them must be below {target:g}. " + (
                       "The run bounces between the valley and the wall: its steps are too "
                       "long to settle; clip harder." if bouncing or longest >= 1.5e-3 else
                       f"The steps are too short to reach the valley in {steps} steps: "
                       "clip less.")))


def check_tanh_sigma(sigma, *, target=0.5, tol=0.02) -> bool:
    """Lesson 09: the input spread ``sigma`` at which tanh's ``E[phi'(z)**2] = target``,
    ``z ~ N(0, sigma**2)`` (re-measured by Monte Carlo with 2 million samples)."""
    sigma = _number("sigma", sigma)
    if sigma is None:
        return False
    if not 0 < sigma <= 100:
        return _report(False, f"sigma={sigma:g}: a standard deviation between 0 and 100, please.")
    z = np.random.default_rng(0).standard_normal(2_000_000) * sigma
    value = float(np.mean((1 - np.tanh(z) ** 2) ** 2))
    ok = abs(value - target) <= tol
    return _report(ok, f"at sigma = {sigma:g}, E[tanh'(z)^2] = {value:.3f}" + (
        "." if ok else f"; you need {target:g} ± {tol:g}: " +
        ("spread the inputs less." if value < target else "spread the inputs more.")))


def check_uniform_relu_scale(weight_scale, *, depth=30, width=64, batch_size=128,
                             tol=0.035) -> bool:
    """Lesson 10: the weight scale that turns the standard ``U(-1/sqrt(n), 1/sqrt(n))`` init
    into one that keeps a deep ReLU network's forward signal: the per-layer factor
    ``(Var(h_{L-1}) / Var(h_0))^{1/(L-1)}`` over ``depth`` layers of width ``width`` must be
    within ``tol`` of 1. The network and batch are the lesson's explorer's (width 64,
    batch 128, seed 0), so the factor its status line shows is the one judged here; ``tol``
    is wider than the gap between neighbouring settings of its log slider (10^0.01 in the
    scale, about 4.7% in the factor ``s^2/6``), so at least one setting passes."""
    from gradviz.probes import activation_stats

    weight_scale = _number("weight_scale", weight_scale)
    if weight_scale is None:
        return False
    if not 0 < weight_scale <= 100:
        return _report(False, f"weight_scale={weight_scale:g}: a scale between 0 and 100, please.")
    cfg = MLPConfig(depth=depth, width=width, activation="relu", init="uniform",
                    weight_scale=weight_scale)
    q = activation_stats(cfg, seed=0, batch_size=batch_size)["pre_var"]
    with np.errstate(all="ignore"):
        factor = float((q[-1] / q[0]) ** (1 / (depth - 1)))
    ok = math.isfinite(factor) and abs(factor - 1) <= tol
    return _report(ok, f"with weight_scale = {weight_scale:g}, Var(h_l) changes by x {factor:.3f} "
                   f"per layer (x {q[-1] / q[0]:.3g} over {depth} layers)" + (
                       "." if ok else f"; you need 1 ± {tol:g}: " +
                       ("scale the weights up." if not factor >= 1 else "scale them down.")))


WARMUP_TASK = {"depth": 4, "d_model": 16, "heads": 2, "seq_len": 8, "placement": "post"}


def check_warmup_steps(warmup_steps, *, learning_rate=0.06, steps=100, target=0.5) -> bool:
    """Lesson 11: a linear warm-up length with which Adam at ``learning_rate`` trains the
    lesson's post-LN transformer (:data:`WARMUP_TASK`, the teacher task of
    :func:`gradviz.attention_train.sequence_task`) to a held-out loss below ``target``
    (about half the predict-the-mean baseline) in ``steps`` steps, judged on the median over
    10 weight draws (:func:`gradviz.attention_train.train_transformer_seeds`), so that one
    lucky or unlucky draw decides nothing."""
    from gradviz.attention_train import sequence_task, train_transformer_seeds
    from gradviz.models.attention import TransformerConfig

    if warmup_steps is None:
        print("Not answered yet: set warmup_steps to a whole number and run this cell again.")
        return False
    if _not_a_number(warmup_steps) or np.asarray(warmup_steps).dtype.kind not in "iu":
        return _report(False, f"warmup_steps={warmup_steps!r}: a whole number of steps, please.")
    warmup_steps = int(warmup_steps)
    if not 0 <= warmup_steps <= steps:
        return _report(False, f"warmup_steps={warmup_steps}: between 0 and {steps}, please.")
    cfg = TransformerConfig(**WARMUP_TASK)
    runs = train_transformer_seeds(cfg, sequence_task(cfg), learning_rate=learning_rate,
                                   warmup_steps=warmup_steps, steps=steps)
    test = float(np.median(runs.test_loss))
    ok = math.isfinite(test) and test < target
    return _report(ok, f"with {warmup_steps} warm-up steps the median held-out loss after "
                   f"{steps} steps is {test:.3g} (predicting the mean: {runs.baseline:.3g})" + (
                       "." if ok else f"; you need below {target:g}. The first steps at the "
                       "full rate still collapse the network to the mean: warm up longer."))


def check_exploding_fix(cfg) -> bool:
    """Lesson 12: an ``MLPConfig`` of at least 40 ReLU layers with He-normal weights times
    1.5 (the exploding network) that the decision guide calls healthy (re-measured)."""
    from gradviz import infographic
    from gradviz.infographic import diagnose

    if cfg is None:
        print("Not answered yet: set cfg to a gv.MLPConfig(...) and run this cell again.")
        return False
    if not isinstance(cfg, MLPConfig):
        return _report(False, f"cfg={cfg!r} is not a gv.MLPConfig.")
    fixed = {"activation": "relu", "init": "he_normal", "weight_scale": 1.5}
    wrong = {k: getattr(cfg, k) for k, v in fixed.items() if getattr(cfg, k) != v}
    if wrong or cfg.depth < 40:
        return _report(False, f"keep activation='relu', init='he_normal', weight_scale=1.5 and "
                       f"depth >= 40 (you have {wrong or {'depth': cfg.depth}}); change "
                       "something else.")
    d = probe_mlp(cfg, seed=0, batch_size=128).activation_grad_norms
    verdict, _ = diagnose(d)
    ok = verdict == "healthy"
    with np.errstate(all="ignore"):
        ratio = d[0] / d[-1]
    return _report(ok, f"first/last gradient = {ratio:.3g}: the guide says {verdict}" + (
        "." if ok else f"; you need between {infographic.LOW:g} and {infographic.HIGH:g}."))
