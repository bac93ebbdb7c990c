"""Batch inference throughput on CPU (file order vs length-sorted fp32 / bf16 / int8 / ONNX), one run.

The baseline is the stock way: batch 64 in file order, fp32. Each variant predicts the same rows;
accuracy on those rows is printed beside the speed so a faster variant cannot hide a worse model.
Then single-text serving in-process, one thread as the app runs it, the variants taking turns text
by text so that drift in the machine's speed hits them alike:
- backends: the app's `Predictor` with PyTorch fp32 and int8, ONNX Runtime fp32 (the app's default,
  tokenised by the `tokenizers` library; and as before, by transformers' tokenizer) and int8, p50 and
  p95 wall time over `--serving-rows` distinct test texts (title + description; all of them with
  `--serving-rows 0`), and the p50 of the CPU time the process spent per text, which another
  program on a shared machine disturbs much less than wall time;
- ONNX Runtime session options for the fp32 graph (graph optimisation level, intra-/inter-op
  threads, spinning, execution mode), each over the first `--option-rows` texts, in blocks whose
  order rotates each repeat (a spinning thread pool would otherwise slow the next variant down);
- a `/classify` batch of 32 texts: 32 single passes, one pass padded to the longest text, or
  length-sorted sub-batches padded each to its own longest ("shorter padding").
RUN needs its ONNX serving graphs (`agnews analyze RUN --stages export`). Measured tables: the
docs/performance.md. `--skip-batch` prints the serving tables only.

    .venv/bin/python bench/inference_throughput.py runs/quick --rows 2048
    .venv/bin/python bench/inference_throughput.py runs/quick --skip-batch --serving-rows 0
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from machine import cpu_name

from agnews.inference import infer, length_sorted_batches
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
from agnews.rundir.run import Run
from agnews.serving.onnx_runtime import OnnxClassifier


@torch.inference_mode()
def file_order_probs(model, tokenizer, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """The stock recipe: consecutive rows batched as they come, padded to the batch's longest."""
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            texts[start : start + batch_size],
            truncation=True,
            max_length=128,
            padding=True,
            return_tensors="pt",
        )
        out.append(torch.softmax(model(**batch).logits, dim=-1).numpy())
    return np.concatenate(out)


def onnx_sorted_probs(graph: Path, tokenizer, texts: list[str]) -> Callable[[], np.ndarray]:
    """A run's ONNX serving graph over length-sorted batches of 64, as many threads as torch uses."""
    session = OnnxClassifier(graph, threads=torch.get_num_threads())

    def predict() -> np.ndarray:
        probs = np.zeros((len(texts), 4), dtype=np.float32)
        batches = length_sorted_batches(
            tokenizer, texts, batch_size=64, max_length=128, progress=False, description="onnx"
        )
        for index, batch in batches:
            probs[index] = session.run(batch["input_ids"].numpy(), batch["attention_mask"].numpy())[0]
        return probs

    return predict


def int8_copy(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation of every Linear layer (weights int8, activations quantised per batch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-batch", action="store_true", help="Serving tables only.")
    parser.add_argument("--serving-rows", type=int, default=200, help="Texts per backend (0: all).")
    parser.add_argument("--option-rows", type=int, default=500, help="Texts per session option.")
    parser.add_argument("--padding-batches", type=int, default=20, help="/classify batches to time.")
    args = parser.parse_args()

    run = Run.load(args.run)
    serving_texts = run.predictions["text"].sample(frac=1.0, random_state=1).tolist()
    if not args.skip_batch:
        batch_throughput(run, args.rows, args.repeats)
    print(f"\nCPU: {cpu_name()}; torch kernels: {torch.backends.cpu.get_cpu_capability()}")
    serving_latency(run, serving_texts[: args.serving_rows or None])
    session_options(run, serving_texts[: args.option_rows], args.repeats)
    batch_padding(run, serving_texts, args.repeats, batches=args.padding_batches)


def batch_throughput(run: Run, rows: int, repeats: int) -> None:
    """The batch table: every variant over the same `rows` test rows, `repeats` times."""
    frame = run.predictions.sample(n=min(rows, len(run.predictions)), random_state=0)
    texts, labels = frame["text"].tolist(), frame["label"].to_numpy()
    tokenizer = run.load_tokenizer()
    model = run.load_classifier().eval()
    quantised = int8_copy(run.load_classifier().eval())

    def sorted_probs(m: torch.nn.Module, bf16: bool = False) -> Callable[[], np.ndarray]:
        return lambda: infer(m, tokenizer, texts, batch_size=64, progress=False, bf16=bf16).probs

    variants: dict[str, Callable[[], np.ndarray]] = {
        "file order, batch 64, fp32 (stock)": lambda: file_order_probs(model, tokenizer, texts),
        "length-sorted, batch 64, fp32": sorted_probs(model),
        "length-sorted, batch 64, bf16 autocast": sorted_probs(model, bf16=True),
        "length-sorted, batch 64, int8 dynamic": sorted_probs(quantised),
        "length-sorted, batch 64, ONNX fp32": onnx_sorted_probs(run.path / SERVING_ONNX, tokenizer, texts),
        "length-sorted, batch 64, ONNX int8": onnx_sorted_probs(
            run.path / SERVING_ONNX_INT8, tokenizer, texts
        ),
    }
    speeds: dict[str, list[float]] = {name: [] for name in variants}
    accuracy: dict[str, float] = {}
    agreement: dict[str, float] = {}  # share of rows predicted as the fp32 file-order baseline does
    reference: np.ndarray | None = None
    for _ in range(repeats):
        for name, predict in variants.items():
            started = time.perf_counter()
            probs = predict()
            speeds[name].append(len(texts) / (time.perf_counter() - started))
            accuracy[name] = float((probs.argmax(axis=1) == labels).mean())
            reference = probs if reference is None else reference
            agreement[name] = float((probs.argmax(axis=1) == reference.argmax(axis=1)).mean())

    baseline = statistics.median(next(iter(speeds.values())))
    print(f"\nbatch inference, {len(texts)} test rows of {run.path}, CPU {torch.get_num_threads()} threads")
    print(f"{'variant':40} {'samples/s':>10} {'ratio':>6} {'accuracy':>9} {'same as fp32':>12}")
    for name, values in speeds.items():
        median = statistics.median(values)
        row = f"{name:40} {median:10.1f} {median / baseline:5.2f}x {accuracy[name]:9.4f}"
        print(f"{row} {agreement[name]:12.4f}")


class Timer:
    """Wall and process CPU milliseconds of each call, per variant."""

    def __init__(self, names: list[str]) -> None:
        self.wall: dict[str, list[float]] = {name: [] for name in names}
        self.cpu: dict[str, list[float]] = {name: [] for name in names}

    def time(self, name: str, call: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        self.cpu[name].append((time.process_time() - cpu) * 1000)
        self.wall[name].append((time.perf_counter() - wall) * 1000)


def serving_latency(run: Run, texts: list[str]) -> None:
    """p50/p95 of one `Predictor.probabilities` call per distinct text, one thread, per backend."""
    from agnews.serving.predictor import Predictor

    torch.set_num_threads(1)
    predictors = {
        "PyTorch fp32": Predictor.from_run(run, "torch"),
        "PyTorch int8 dynamic": Predictor.from_run(run, "torch"),
        "ONNX fp32 as before (see below)": Predictor.from_run(run, "onnx"),
        "ONNX fp32 (app default)": Predictor.from_run(run, "onnx"),
    }
    if (run.path / SERVING_ONNX_INT8).is_file():
        predictors["ONNX int8 (--serving onnx-int8)"] = Predictor.from_run(run, "onnx-int8")
    predictors["PyTorch int8 dynamic"].model = int8_copy(predictors["PyTorch int8 dynamic"].model)
    # Before: transformers' tokenizer and ONNX Runtime's default (all) graph optimisations.
    before = predictors["ONNX fp32 as before (see below)"]
    before._encoder = None
    before.graph = SimpleNamespace(run=onnx_session(run.path / SERVING_ONNX))
    timer = Timer(list(predictors))
    for name, predictor in predictors.items():
        predictor.probabilities(f"warm up the kernels for {name}")
    for text in dict.fromkeys(texts):  # distinct texts: no cache hits (each predictor has its own cache)
        for name, predictor in predictors.items():
            timer.time(name, lambda p=predictor, t=text: p.probabilities(t))
    baseline = float(np.percentile(timer.wall["PyTorch fp32"], 50))
    print(f"\nsingle-text serving in-process, {len(texts)} distinct test texts, 1 thread, taking turns")
    print("(before: transformers' tokenizer, all graph optimisations; now: `tokenizers`, none)")
    print(f"{'variant':40} {'p50 ms':>8} {'p95 ms':>8} {'speed-up':>9} {'CPU ms p50':>11}")
    for name, values in timer.wall.items():
        p50, p95 = np.percentile(values, [50, 95])
        print(f"{name:40} {p50:8.1f} {p95:8.1f} {baseline / p50:8.2f}x {np.median(timer.cpu[name]):11.1f}")


def onnx_session(path: Path, **settings: object) -> Callable[[np.ndarray, np.ndarray], object]:
    """A session over `path` with SessionOptions attributes (and `spinning`, a config entry) set."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    spinning = settings.pop("spinning", None)
    if spinning is not None:
        options.add_session_config_entry("session.intra_op.allow_spinning", str(spinning))
    for key, value in settings.items():
        setattr(options, key, value)
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})


def session_options(run: Run, texts: list[str], repeats: int) -> None:
    """Single-text latency of the fp32 graph under ONNX Runtime session options, blocks rotating."""
    import onnxruntime

    from agnews.serving.onnx_runtime import FastTokenizer

    level = onnxruntime.GraphOptimizationLevel
    graph = run.path / SERVING_ONNX
    variants = {
        "all optimisations, 1 thread (ORT default, before)": onnx_session(graph),
        "extended optimisations": onnx_session(graph, graph_optimization_level=level.ORT_ENABLE_EXTENDED),
        "basic optimisations": onnx_session(graph, graph_optimization_level=level.ORT_ENABLE_BASIC),
        "no optimisations (the app)": onnx_session(graph, graph_optimization_level=level.ORT_DISABLE_ALL),
        "2 intra-op threads, spinning": onnx_session(graph, intra_op_num_threads=2),
        "2 intra-op threads, no spinning": onnx_session(graph, intra_op_num_threads=2, spinning=0),
        "parallel execution, 2 inter-op threads": onnx_session(
            graph, execution_mode=onnxruntime.ExecutionMode.ORT_PARALLEL, inter_op_num_threads=2
        ),
    }
    encode = FastTokenizer(run.model_path, max_length=run.config.train.max_length)
    encoded = [encode([text]) for text in texts]
    p50: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            run_graph = variants[name]
            run_graph(*encoded[0])  # warm-up
            timer = Timer([name])
            for ids, mask in encoded:
                timer.time(name, lambda g=run_graph, i=ids, m=mask: g(i, m))
            p50[name].append(float(np.median(timer.wall[name])))
            cpu[name].append(float(np.median(timer.cpu[name])))
    baseline = statistics.median(p50[names[0]])
    print(f"\nONNX Runtime fp32 session options, {len(texts)} texts per block, median of {repeats} blocks")
    print(f"{'session':50} {'p50 ms':>8} {'speed-up':>9} {'CPU ms p50':>11}")
    for name in names:
        median = statistics.median(p50[name])
        print(f"{name:50} {median:8.1f} {baseline / median:8.2f}x {statistics.median(cpu[name]):11.1f}")


def batch_padding(run: Run, texts: list[str], repeats: int, size: int = 32, batches: int = 20) -> None:
    """A `/classify` batch of `size` texts through the fp32 graph, one thread: one pass per text, one
    padded pass, or length-sorted sub-batches each padded to its own longest text."""
    from agnews.serving.onnx_runtime import FastTokenizer

    graph = OnnxClassifier(run.path / SERVING_ONNX, threads=1)
    encode = FastTokenizer(run.model_path, max_length=run.config.train.max_length)
    groups = [texts[i * size : (i + 1) * size] for i in range(batches)]

    def split(group: list[str], part: int) -> None:
        ordered = sorted(group, key=lambda text: len(encode.tokenizer.encode(text).ids))
        for start in range(0, len(ordered), part):
            graph.run(*encode(ordered[start : start + part]))

    variants: dict[str, Callable[[list[str]], None]] = {
        f"{size} single passes": lambda group: [graph.run(*encode([text])) for text in group],
        "one pass, padded to the longest": lambda group: graph.run(*encode(group)),
        "length-sorted, 2 sub-batches": lambda group: split(group, size // 2),
        "length-sorted, 4 sub-batches": lambda group: split(group, size // 4),
    }
    timer = Timer(list(variants))
    for _ in range(repeats):
        for group in groups:
            for name, call in variants.items():
                timer.time(name, lambda c=call, g=group: c(g))
    baseline = float(np.median(timer.wall[next(iter(variants))]))
    print(f"\n/classify batch of {size} texts, fp32 graph, 1 thread, {batches} batches x {repeats}")
    print(f"{'variant':40} {'ms/batch':>9} {'speed-up':>9} {'CPU ms':>8}")
    for name, values in timer.wall.items():
        median = float(np.median(values))
        print(f"{name:40} {median:9.1f} {baseline / median:8.2f}x {np.median(timer.cpu[name]):8.1f}")


if __name__ == "__main__":
    main()
