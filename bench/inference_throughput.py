"""Batch inference throughput on CPU (file order vs length-sorted fp32 / bf16 / int8 / ONNX), one run.

The baseline is the stock way: batch 64 in file order, fp32. Each variant predicts the same rows;
accuracy on those rows is printed beside the speed so a faster variant cannot hide a worse model.
Then single-text serving latency in-process (the app's `Predictor`, one thread as the app runs it):
PyTorch fp32 and int8, ONNX Runtime fp32 and int8, p50/p95 over distinct texts. RUN needs its ONNX
serving graphs (`agnews analyze RUN --stages export`). Measured tables: the README's Performance
section.

    .venv/bin/python bench/inference_throughput.py runs/quick --rows 2048
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from agnews.inference import infer, length_sorted_batches
from agnews.rundir import Run
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
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
    args = parser.parse_args()

    run = Run.load(args.run)
    frame = run.predictions.sample(n=min(args.rows, len(run.predictions)), random_state=0)
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
    for _ in range(args.repeats):
        for name, predict in variants.items():
            started = time.perf_counter()
            probs = predict()
            speeds[name].append(len(texts) / (time.perf_counter() - started))
            accuracy[name] = float((probs.argmax(axis=1) == labels).mean())
            reference = probs if reference is None else reference
            agreement[name] = float((probs.argmax(axis=1) == reference.argmax(axis=1)).mean())

    baseline = statistics.median(next(iter(speeds.values())))
    print(f"\nbatch inference, {len(texts)} test rows of {args.run}, CPU {torch.get_num_threads()} threads")
    print(f"{'variant':40} {'samples/s':>10} {'ratio':>6} {'accuracy':>9} {'same as fp32':>12}")
    for name, values in speeds.items():
        median = statistics.median(values)
        row = f"{name:40} {median:10.1f} {median / baseline:5.2f}x {accuracy[name]:9.4f}"
        print(f"{row} {agreement[name]:12.4f}")
    serving_latency(run, texts[:200])


def serving_latency(run: Run, texts: list[str]) -> None:
    """p50/p95 of one `Predictor.probabilities` call per distinct text, one thread, per backend.

    The backends take turns text by text, so drift in the machine's speed hits them alike.
    """
    from agnews.serving.predictor import Predictor

    torch.set_num_threads(1)
    predictors = {
        "PyTorch fp32": Predictor.from_run(run, "torch"),
        "PyTorch int8 dynamic": Predictor.from_run(run, "torch"),
        "ONNX Runtime fp32 (app default)": Predictor.from_run(run, "onnx"),
        "ONNX Runtime int8 (--serving onnx-int8)": Predictor.from_run(run, "onnx-int8"),
    }
    predictors["PyTorch int8 dynamic"].model = int8_copy(predictors["PyTorch int8 dynamic"].model)
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for name, predictor in predictors.items():
        predictor.probabilities(f"warm up the kernels for {name}")
    for text in texts:
        for name, predictor in predictors.items():
            started = time.perf_counter()
            predictor.probabilities(f"{name}: {text}")  # distinct text: no cache hit
            times[name].append((time.perf_counter() - started) * 1000)
    baseline = float(np.percentile(times["PyTorch fp32"], 50))
    print(f"\nsingle-text serving in-process, {len(texts)} distinct texts, 1 thread")
    print(f"{'variant':40} {'p50 ms':>8} {'p95 ms':>8} {'speed-up':>9}")
    for name, values in times.items():
        p50, p95 = np.percentile(values, [50, 95])
        print(f"{name:40} {p50:8.1f} {p95:8.1f} {baseline / p50:8.2f}x")


if __name__ == "__main__":
    main()
