"""Write benchmarks/RESULTS.md from the JSON files the benchmarks left in results/."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

TRIED = """
## What was tried, and what each gave

Measured on this 2-core VM while building the probe; the tables above are the numbers of
this run, these are the steps that led to them.

* **Masked `lax.scan` to the maximum depth** (the starting point): never recompiles, but
  pays for 100 layers at every depth. d50 w256: 71 ms against 19 ms unrolled (3.7x).
* **`lax.scan` + `lax.cond` per layer** to skip the unused layers: no better (d50 w256:
  71 ms); XLA's CPU conditional inside a scan did not save the matmuls.
* **`lax.while_loop` with the exact depth as trip count, backward written as a loop of
  VJPs** (the explorer's engine, `probes.probe_stacked`): every knob traced, zero
  recompiles, and 1.2-1.5x the bare unrolled chain (table above, column
  engine/bare). Adopted for the widgets.
* **`probe_mlp` on the unrolled, exact-depth `jax.grad` program** (`probes.probe_unrolled`),
  compiled once per depth: adopted at first for the function API, then replaced by the
  explorer's engine on weights padded to a depth bucket (1-32, 33-64, ...): a lesson that
  compares depths 5, 10, 20 and 30 used to compile four programs of about 5 s each on a
  cold cache. `probe_unrolled` stays as the tests' independent reference.
* **One reduction over stacked per-layer gradients instead of one per layer** (for arrays
  under 16k entries): d50 w64 went from 1.8x to 1.2-1.3x the bare chain. Stacking the
  large w256 gradients made it worse (d100 w256: 84 ms against 43 ms), hence the size limit.
* **Single-threaded Eigen** (`--xla_cpu_multi_thread_eigen=false`): slower at w256
  (64 ms against 51 ms for the engine at d100), no gain at w64. Not adopted.
* **Persistent compilation cache in `.jax_cache/`**: first display of the explorer in a
  new process 5.5 s -> 2.5 s, then, with the next two items, about 1.7 s.
* **One `lax.switch` drawing all three weight stacks** instead of three switches over the
  8 init schemes: the weight-drawing function's trace + lowering went from 1.1 s to 0.6 s.
* **One activation switch per loop in the engine** (`phi'` by forward mode; saturated and
  dead units as limits on that slope; layer 0 inside both loops) instead of six switch
  sites over the 9 activations: compiling the engine went from 2.3 s to 1.0 s (with the
  health statistics; 1.6 s to 1.0 s without). The price is layer 0's discarded products
  with the hidden weights: d10 w64 0.90 -> 1.1 ms, within 5% at depth 100. Skipping them
  with `lax.cond` was slower (d100 w256 52 -> 69 ms: the conditional copied the carried
  gradient stack).
* **Weights drawn at the depth bucket** and cut to the depth: `init_mlp` used to compile
  its draw once per depth (about 2.2 s each cold); lesson 03's depth table (depths 5, 10,
  20, 30) went from 15.4 s to 5.1 s, and the explorers and `train_variants` share the
  draw with `init_mlp`. The arrays are the same bit for bit (layer `l` comes from
  `fold_in(key, l)`).
* **Drawing only the selected init scheme** (1.3-1.8 s to compile against 2.7 s for the
  switch over all nine): not adopted, since lessons compare several schemes at one shape
  (lesson 03 five, lesson 10 eight) and each would compile on its own.
* **One switch branch per family of initializers** (truncated normal, uniform, normal,
  orthogonal, zeros, with each scheme's scale as data): the draw compiled in 1.7 s instead
  of 2.7 s, but He and Glorot normal weights moved in their last float32 bit (XLA folds a
  constant scale differently from a traced one), and the lessons' SGD runs at large
  learning rates amplified that into different results (lesson 04: ReLU + He at lr 0.3
  diverging at step 96 instead of 114; lesson 11: the run without warm-up ending at 0.931
  instead of 0.755). Not adopted: the weights stay jax.nn's own draws, bit for bit.
* **Per-program XLA options** (`xla_backend_optimization_level=1`,
  `xla_llvm_disable_expensive_passes`): the draw compiled in 2.5 s instead of 2.9 s, the
  engine no faster. Adopted later for the random draws and the transformer programs
  (`gradviz._cache.FAST_COMPILE`), whose numbers it leaves unchanged bit for bit.
* **The random bits drawn once per weight draw**: every jax.nn scheme turns the same 32
  bits per entry into its numbers, so `init.draw_stacks` draws them for every matrix in
  one threefry call and each switch branch only converts them with jax's own float32
  steps: the MLP weight draw compiled in 0.9-1.1 s instead of 1.4 s at width 64 (1.2-1.3 s
  against 1.7 s at width 256), the same weights bit for bit.
* **Draws compiled without XLA's fusion emitters** as well as at -O1
  (`_cache.DRAW_COMPILE`): the MLP weight draw 1.35-1.7 s -> 0.9-1.25 s; with the item
  above, lesson 07's compiles in one process 26.3 s -> 17.5 s, the same numbers bit for
  bit. The same option
  elsewhere: the MLP probe compiled in 0.6 s instead of 0.9 s at the same speed, but
  moved a last bit at width 16; `train_mlp`'s unrolled step compiled in 37 s instead of
  1.8 s; `train_stacked` ran 1.56 s instead of 1.14 s; the transformer runs compiled 1.3 s
  faster and ran 1.4 s slower. Not adopted there.
* **Independent runs on two Python threads** (one compiled program, called side by side):
  four depth-30 width-64 training runs took 1.13 s instead of 2.12 s, bit for bit the same,
  but ten width-256 probes on two threads hung for good (0% CPU; cf. jax issue 25861 on
  CPU async dispatch). Not adopted: a lesson that may hang is worse than a slow one.
* **The CPU as one XLA device per core** (`gradviz._devices`: `jax_num_cpu_devices` set on
  import, before JAX starts; a `shard_map` gives each device its share of independent runs,
  a `lax.map` works through them one at a time). Adopted for `train_many` and the
  transformer grid: lesson 04's 59-run learning-rate table 11.1 s -> 5.5 s warm (13.6 ->
  9.2 s cold), lesson 11's 40 transformer runs 5.9 s -> 3.0 s warm (12.1 -> 10.7 s cold; the
  sharded program compiles about 1.5 s longer). Bit for bit the same numbers on 1 and 2
  devices (tests/test_devices.py), because every run is the same one-run computation.
  Tried and not adopted: splitting a `vmap` over the devices (2x faster, but the per-device
  batch size changes XLA's batched products: 27% of a 5-run test's records moved in the last
  bit); `train_variants`' five runs through the same path (bit for bit the same, 4.7 -> 3.1 s
  warm but 8.7 -> 9.3 s cold: its five runs are too few to repay the longer compile); the
  activation and norm chosen per run by `lax.switch` instead of computing each and keeping
  one (6.5 -> 8.0 s for lesson 04's table, and 14 of 60 runs moved in the last bit); a run
  dispatched to the second device from Python (each device compiles the program again,
  1.8 s, and four runs gained 0.2 s).
* **`train_many` picks each run's network once**, by one `lax.switch` over the whole
  training loop, instead of computing every activation, norm and skip setting in use at
  every layer and keeping one with `jnp.where` (a `lax.switch` per layer was the slower
  variant above): lesson 07's five depth-30 networks over 10 draws, 18.2 s -> 8.9 s warm
  (25.4 -> 10.6 s cold) at width 64, so its tables could become medians over draws; lesson
  04's table 3.8 -> 3.2 s warm. A diverged run stops computing (`lax.cond` per step), and
  `norms=False` drops the per-layer records that a table of losses does not read (a fifth
  of a step at width 64: 40 runs 5.8 -> 4.7 s warm). All bit for bit the same losses and
  weights (tests/test_training_engine.py, tests/test_devices.py). Even so, ten draws cost
  what one did not: lesson 07 (50 + 50 runs) and lesson 10 (80 runs) grew by 5-10 s each,
  and lesson 07 trains its tables at width 32 rather than 64 to stay near that.
* **Importing `FigureWidget` (and anywidget) with `gradviz`**, not at first display: 0.75 s
  moved from the explorer's cell to the import cell.
* **Kernel-side figure update by direct property assignment** instead of `update_layout`
  (5.0 ms -> 0.7 ms per update), **numpy arrays** for trace data (binary buffers, no
  per-point Python objects), **y-axis range rounded to whole decades** and **fixed
  margins** (`autoexpand=False`), so most moves keep the ticks and skip Plotly's margin
  pass in the browser, and **no `clear_output` message** when the error area is empty.

Still above target, with the cause found:

* `probe_mlp` vs PyTorch at width 64 and vs the bare chain at depth 10: the probe does more
  than the bare chain (norms, standard deviations, the shift that exposes dL/dh), and at
  d10 w64 the whole call is about 1 ms, of which ~0.3 ms is the Python call itself
  (argument checks, `device_get`, building the result). The XLA CPU runtime's per-op
  overhead dominates these small matmuls (128x64x64 is 1 MFLOP).
* `probe_mlp` at depths 65-128 (the depth-100 rows): its buffers for the padded 128-layer
  stack (pre-activations and outputs, 16.7 MB each at width 256) are fresh `mmap`
  allocations on every call, and the first touch of each page is a page fault. With
  glibc's `MALLOC_MMAP_THRESHOLD_=2147483647 MALLOC_TRIM_THRESHOLD_=4294967295` the call
  at depth 1 went from 11.0 ms to 2.3 ms and at depth 30 from 26 ms to 17 ms (the
  32-layer bucket's time). Not adopted: it is a process-wide allocator setting, not
  something a teaching library should change behind the learner's back.
* First display: tracing and lowering the weight-drawing switch over the 8 `jax.nn`
  initializers (about 0.6 s even when the compiled code comes from the disk cache) and
  plotly's first figure validation (0.2-0.3 s). Next step: draw only the selected scheme
  first and compile the others in a background thread.
"""


def load(name: str):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def f(x, digits=3) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def main() -> None:
    probe, kernel = load("probe_speed"), load("slider_latency")
    course, browser = load("course_time"), load("browser_latency")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {datetime.date.today().isoformat()}. "
        "Each number is a median of repeated warm calls; candidates are timed "
        "interleaved, so every ratio compares numbers from the same moments.",
        "",
    ]
    targets = []
    if probe:
        m = probe["machine"]
        lines += [
            f"**Machine:** {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
            f"{m['platform']}. **Versions:** jax {probe['versions']['jax']}, "
            f"torch {probe['versions']['torch']} ({probe['torch_threads']} threads).",
            "",
            "## 1. Probe speed (tanh MLP, LeCun init, batch 128)",
            "",
            "Baselines: (b) PyTorch on the CPU with `.grad` reads of every layer, "
            "(c) the same JAX code without `jit`, and the bare unrolled, exact-depth "
            "jitted chain (`jax.grad` of the loss, no norms). The three probes agreed "
            "(rtol 1e-3) before timing.",
            "",
            "| depth | width | probe_mlp ms | PyTorch ms | no-jit ms | explorer engine ms "
            "| bare jit ms | PyTorch / probe | no-jit / probe | probe / bare | engine / bare |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in probe["rows"]:
            ms = r["ms"]
            lines.append(
                f"| {r['depth']} | {r['width']} | {f(ms['probe_mlp'])} | {f(ms['torch'])} "
                f"| {f(ms['jax_nojit'])} | {f(ms['explorer_engine'])} | {f(ms['bare_jit'])} "
                f"| {r['speedup_vs_torch']:.2f}x | {r['speedup_vs_nojit']:.0f}x "
                f"| {r['probe_over_bare_jit']:.2f} | {r['engine_over_bare_jit']:.2f} |"
            )
        pk = probe["peak"]
        lines += [
            "",
            "## 2. Against the hardware",
            "",
            f"Peak: one {pk['n']}x{pk['n']} float32 matmul, jitted: {f(pk['ms'])} ms = "
            f"**{pk['gflops']:.1f} GFLOP/s**.",
            "",
            "| depth | width | probe GFLOP/s | bare jit GFLOP/s | probe % of peak |",
            "|---|---|---|---|---|",
        ]
        for r in probe["rows"]:
            lines.append(
                f"| {r['depth']} | {r['width']} | {r['gflops_probe']:.1f} | "
                f"{r['gflops_bare_jit']:.1f} | {100 * r['gflops_probe'] / pk['gflops']:.0f}% |"
            )
        w64 = [r["speedup_vs_torch"] for r in probe["rows"] if r["width"] == 64]
        w256 = [r["speedup_vs_torch"] for r in probe["rows"] if r["width"] == 256]
        bare = [r["probe_over_bare_jit"] for r in probe["rows"]]
        targets += [
            (
                "probe_mlp vs PyTorch, width 64",
                ">= 2x",
                f"{min(w64):.2f}x to {max(w64):.2f}x",
                min(w64) >= 2,
            ),
            (
                "probe_mlp vs PyTorch, width 256",
                ">= 1.3x",
                f"{min(w256):.2f}x to {max(w256):.2f}x",
                min(w256) >= 1.3,
            ),
            (
                "probe_mlp vs unrolled exact-depth jit",
                "within 1.2x",
                f"{min(bare):.2f}x to {max(bare):.2f}x",
                max(bare) <= 1.2,
            ),
        ]
    if kernel:
        fd = kernel["first_display"]
        lines += [
            "",
            "## 3. Slider latency",
            "",
            "### Kernel side",
            "From `control.value = v` to the figure's data updated (the callback has "
            "re-measured and written into the FigureWidget), every control of every "
            "explorer of every lesson, moved across its range three times, warm.",
            "",
            "| lesson | explorer | control | moves | p50 ms | p95 ms |",
            "|---|---|---|---|---|---|",
        ]
        worst = worst_training = 0.0
        for e in kernel["explorers"]:
            for name, c in e["controls"].items():
                kind = e.get("kind", "GradientExplorer")
                lines.append(
                    f"| {e['lesson']} | {e['explorer']}: {kind} (width {e['width']}) | {name} "
                    f"| {c['n']} | {c['p50_ms']:.1f} | {c['p95_ms']:.1f} |"
                )
            if e.get("kind") == "TrainingExplorer":
                worst_training = max(worst_training, e["all"]["p95_ms"])
            else:
                worst = max(worst, e["all"]["p95_ms"])
        lines += [
            "",
            f"First display of an explorer in a new process (`gv.GradientExplorer()`, "
            f"after `import gradviz`, which takes {fd['warm_cache']['import_s']:.2f} s): "
            f"**{fd['cold_cache']['first_display_s']:.2f} s** with an empty compilation "
            f"cache, **{fd['warm_cache']['first_display_s']:.2f} s** with a warm one.",
        ]
        targets += [
            (
                "kernel-side update, every probe explorer (one forward and backward pass)",
                "p95 <= 20 ms",
                f"worst explorer p95 {worst:.1f} ms",
                worst <= 20,
            ),
            (
                "kernel-side update, training explorer (a whole 100-step SGD run per move)",
                "p95 <= 250 ms",
                f"worst explorer p95 {worst_training:.1f} ms",
                worst_training <= 250,
            ),
            (
                "first display of an explorer",
                "<= 1.5 s",
                f"{fd['warm_cache']['first_display_s']:.2f} s warm cache, "
                f"{fd['cold_cache']['first_display_s']:.2f} s cold",
                fd["warm_cache"]["first_display_s"] <= 1.5,
            ),
        ]
    if browser:
        lines += [
            "",
            "### Browser side",
            "",
            f"Playwright presses an arrow key on a slider of {browser['lesson']} in "
            f"JupyterLab {browser['jupyterlab']} / Chromium {browser['chromium']}; the "
            "time runs, on the page clock, from the keydown to the plotted data "
            "changing in the DOM.",
            "",
            "| slider | moves | p50 ms | p95 ms |",
            "|---|---|---|---|",
        ]
        for name in browser["p50_ms"]:
            lines.append(
                f"| {name} | {len(browser['moves'][name])} | {browser['p50_ms'][name]:.1f} "
                f"| {browser['p95_ms'][name]:.1f} |"
            )
        a = browser["all"]
        lines.append(f"| all | {a['n']} | {a['p50_ms']:.1f} | {a['p95_ms']:.1f} |")
        targets.append(
            ("browser end-to-end", "p95 <= 150 ms", f"p95 {a['p95_ms']:.1f} ms", a["p95_ms"] <= 150)
        )
    if course:
        lines += [
            "",
            "## 4. Course",
            "",
            "Each lesson executed top to bottom with nbclient on a "
            "fresh kernel: the course in order with one empty compilation cache (a learner's "
            "first run), then again with the cache warm, then each lesson alone with an empty "
            "cache of its own (a learner who opens that lesson first). This VM's speed drifts "
            "by tens of percent within an hour; the 2048-square float32 matmul rate measured "
            "just before each pass is given with it.",
            "",
        ]
        alone = course.get("alone_cold")
        rates = [course[k].get("matmul_gflops") for k in ("cold_cache", "warm_cache")]
        if alone:
            rates.append(alone.get("matmul_gflops"))
        lines.append("matmul GFLOP/s before each pass: "
                     + ", ".join("-" if r is None else f"{r:.0f}" for r in rates))
        lines += ["", "| lesson | in order, empty cache s | in order, warm cache s | alone, "
                  "empty cache s |", "|---|---|---|---|"]
        alone_rows = alone["lessons"] if alone else [None] * len(course["cold_cache"]["lessons"])
        for cold, warm, solo in zip(course["cold_cache"]["lessons"],
                                    course["warm_cache"]["lessons"], alone_rows, strict=True):
            lines.append(f"| {cold['lesson']} | {cold['seconds']:.1f} | {warm['seconds']:.1f} | "
                         f"{'-' if solo is None else format(solo['seconds'], '.1f')} |")
        total = course["cold_cache"]["total_seconds"]
        lines.append(
            f"| **whole course** | **{total:.1f}** | "
            f"**{course['warm_cache']['total_seconds']:.1f}** |"
        )
        targets.append(("whole course", "<= 4 min", f"{total:.0f} s (empty cache)", total <= 240))
        slowest = max(course["cold_cache"]["lessons"], key=lambda r: r["seconds"])
        targets.append(("every lesson, in course order, empty cache", "< 30 s",
                        f"slowest {slowest['lesson'][:2]}: {slowest['seconds']:.1f} s",
                        slowest["seconds"] < 30))
        if alone:
            slowest = max(alone["lessons"], key=lambda r: r["seconds"])
            over = [r["lesson"][:2] for r in alone["lessons"] if r["seconds"] >= 30]
            targets.append(("every lesson alone, its own empty cache", "< 30 s",
                            f"slowest {slowest['lesson'][:2]}: {slowest['seconds']:.1f} s"
                            + (f" (over: {', '.join(over)})" if over else ""), not over))
    targets.insert(
        3,
        (
            "compiles on any slider move after first display, every lesson",
            "zero",
            "0 (asserted by tests/test_lesson_explorers.py)",
            True,
        ),
    )
    lines += ["", "## Targets", "", "| what | target | measured | met |", "|---|---|---|---|"]
    lines += [f"| {w} | {t} | {m} | {'yes' if ok else '**no**'} |" for w, t, m, ok in targets]
    lines.append(TRIED)
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print(HERE / "RESULTS.md")


if __name__ == "__main__":
    main()
