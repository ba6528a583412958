"""Mini-batch training against the peers: time per epoch and time to a target test accuracy.

The tasks (``--task``), each with Adam (learning rate 1e-3, the peers' defaults otherwise), the same
net, the same batch size everywhere and float32:

- ``binary`` (issue 19, the default): ``make_classification(n_samples=250_000, n_features=40,
  n_informative=20, n_redundant=5, n_clusters_per_class=4, class_sep=0.8, flip_y=0.01,
  random_state=0)``, standardized, the last 50,000 held out; the net 40-64-32-1 ReLU with a sigmoid
  output (binary cross-entropy on the logit); batch 256; target 95%; each run stops at the target.
- ``digits`` (issue 20): scikit-learn's ``load_digits``, X / 16, ``train_test_split(test_size=0.25,
  random_state=0, stratify=y)``; the net 64-64-10 ReLU with a softmax output (categorical
  cross-entropy on the logits: PyTorch's ``CrossEntropyLoss``, Keras's
  ``SparseCategoricalCrossentropy(from_logits=True)``, Optax's
  ``softmax_cross_entropy_with_integer_labels``, MLPClassifier's own); batch 32; target 95%; each run
  trains ``--max-epochs`` (50) epochs, so the best accuracy within them is known too.
- ``multiclass`` (issue 20): ``make_classification(n_samples=200_000, n_features=40,
  n_informative=20, n_redundant=5, n_classes=10, n_clusters_per_class=2, class_sep=1.0, flip_y=0.01,
  random_state=0)``, standardized, the last fifth held out; the net 40-64-32-10 ReLU with a softmax
  output; batch 256; target 85% (every peer reaches it in 11-12 epochs); 15 epochs each run.

Labels are class indices (1-D for the peers, shape (1, m) for arraynet), int64 in the softmax tasks.

Each peer runs in a process of its own (a fresh interpreter, its library's threads pinned as the
driver says), trains epoch by epoch and reports each epoch's seconds and the test accuracy after
it (evaluation is not timed); the driver alternates the peers round by round and reports medians.
The time to the target is the training time up to the first epoch whose test accuracy reaches it.

    python benchmarks/minibatch_peers.py                      # binary, all peers, batch 256, 3 rounds
    python benchmarks/minibatch_peers.py --batch-sizes 32,256,4096 --threads 1 --rounds 3 --output benchmarks/results
    python benchmarks/minibatch_peers.py --task digits --threads 1 --rounds 3 --output benchmarks/results
    python benchmarks/minibatch_peers.py --task multiclass --threads 1 --rounds 2 --output benchmarks/results
    python benchmarks/minibatch_peers.py --peer torch-loop --batch-size 256   # one run, JSON on stdout

Peers: arraynet on NumPy, PyTorch CPU and JAX (whatever step ``fit`` picks; ``X`` given as ``X.T``, as the guides show), a PyTorch user's
idiomatic loop (``randperm``, indexing, ``zero_grad``/``backward``/``step``), PyTorch with a
``DataLoader``, scikit-learn's ``MLPClassifier`` (adam), Keras 3 on JAX and on PyTorch, and a JAX
user's jitted Optax step in a Python loop over batches. Those not installed are skipped. On a CUDA
GPU, ``--peers`` may also name ``arraynet-cupy``, ``arraynet-torch-cuda`` and ``torch-loop-cuda``
(the data copied to the device once; each epoch timed up to the device's work done; results named
``...-gpu``): ``benchmarks/gpu_session.sh``'s ``minibatch`` phase runs them.

    python benchmarks/minibatch_peers.py --peers arraynet-cupy,arraynet-torch-cuda,torch-loop-cuda,arraynet-numpy \
        --batch-sizes 256,1024 --rounds 2 --output benchmarks/results   # 8192 reaches no 95% in 20 epochs
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

LEARNING_RATE = 1e-3
PEERS = (
    "arraynet-numpy",
    "arraynet-torch",
    "arraynet-jax",
    "torch-loop",
    "torch-dataloader",
    "sklearn-mlp",
    "keras-jax",
    "keras-torch",
    "jax-optax-loop",
)
# on a CUDA GPU (issue 22's device session), named with --peers: arraynet on CuPy and on PyTorch
# CUDA, and the PyTorch loop on CUDA; each epoch ends with the device's work done
GPU_PEERS = ("arraynet-cupy", "arraynet-torch-cuda", "torch-loop-cuda")


@dataclass(frozen=True)
class Task:
    """A task's data and settings: the hidden layers, the batch size, the target test accuracy,
    the epochs at most, and whether a run stops at the target or trains them all."""

    name: str
    hidden: tuple[int, ...]
    batch_size: int
    target: float
    max_epochs: int
    stop_at_target: bool
    m: int
    describe: str


TASKS = {
    "binary": Task("binary", (64, 32), 256, 0.95, 20, True, 250_000,
                   "make_classification m = {m} (a fifth held out), 40 features, 2 classes"),
    "digits": Task("digits", (64,), 32, 0.95, 50, False, 1797,
                   "load_digits / 16 (1347 train, 450 test, stratified, random_state 0), 64 features, 10 classes"),
    "multiclass": Task("multiclass", (64, 32), 256, 0.85, 15, False, 200_000,
                       "make_classification m = {m} (a fifth held out), 40 features, 10 classes, 2 clusters each, class_sep 1.0"),
}


@dataclass
class Data:
    """``X`` (examples in rows, float32), the labels ``y`` (float32 0/1 for a binary task, int64
    class indices otherwise), the held-out ``X_test``, ``y_test``, the hidden layers and the
    output units (1: a sigmoid output; C > 1: a softmax one)."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    hidden: tuple[int, ...]
    outputs: int

    @property
    def sizes(self) -> list[int]:
        return [self.X.shape[1], *self.hidden, self.outputs]


def load(task: Task, m: int) -> Data:
    """The task's ``Data``: standardized on the training part (the last fifth held out) for the
    synthetic tasks, X / 16 and a stratified quarter held out for the digits."""
    from sklearn.datasets import load_digits, make_classification
    from sklearn.model_selection import train_test_split

    if task.name == "digits":
        digits = load_digits()
        X_train, X_test, y_train, y_test = train_test_split(
            (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64), test_size=0.25, random_state=0,
            stratify=digits.target,
        )
        return Data(X_train, y_train, X_test, y_test, task.hidden, 10)
    if task.name == "binary":
        X, y = make_classification(
            n_samples=m, n_features=40, n_informative=20, n_redundant=5, n_clusters_per_class=4,
            class_sep=0.8, flip_y=0.01, random_state=0,
        )
        y, outputs = y.astype(np.float32), 1
    else:
        X, y = make_classification(
            n_samples=m, n_features=40, n_informative=20, n_redundant=5, n_classes=10, n_clusters_per_class=2,
            class_sep=1.0, flip_y=0.01, random_state=0,
        )
        y, outputs = y.astype(np.int64), 10
    split = m - m // 5
    mean, std = X[:split].mean(axis=0), X[:split].std(axis=0)
    X = ((X - mean) / std).astype(np.float32)
    return Data(X[:split], y[:split], X[split:], y[split:], task.hidden, outputs)


def hits(logits: Any, y: Any) -> Any:
    """Which predictions of ``logits`` (examples in rows, any library's array) are right: the sign
    of the one logit, or the largest of several."""
    predicted = logits[:, 0] > 0 if logits.shape[1] == 1 else logits.argmax(1)
    return predicted == y


# -- the peers: each returns epoch(), accuracy() ---------------------------------------------------
def arraynet_peer(backend: str, device: str | None = None) -> Callable[..., Any]:
    def make(data: Data, batch: int) -> Any:
        import arraynet

        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", False)
        # X.T, a view of the examples in rows, as the guides pass it (a C-order copy costs one more
        # copy of X in each fit, 8 ms here: fit gathers the batches as rows)
        X_, Y_ = arraynet.asarray(data.X.T, backend, device), arraynet.asarray(data.y.reshape(1, -1), backend, device)
        X_t = arraynet.asarray(data.X_test.T.copy(), backend, device)
        Y_t = arraynet.asarray(data.y_test.reshape(1, -1), backend, device)
        model = arraynet.NeuralNetwork(data.sizes, seed=0)
        steps: list[str] = []

        def epoch() -> None:
            history = model.fit(X_, Y_, LEARNING_RATE, optimizer="adam", batch_size=batch, epochs=1, progress=False)
            steps.append(history.step)

        return epoch, lambda: model.accuracy(X_t, Y_t), lambda: steps[-1]

    return make


def torch_model(sizes: list[int]) -> Any:
    """The net and its loss on the logits: BCEWithLogitsLoss on the one logit (``[:, 0]``) for one
    output unit, CrossEntropyLoss on the C logits and the class indices otherwise."""
    import torch

    layers: list[Any] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    if sizes[-1] == 1:
        bce = torch.nn.BCEWithLogitsLoss()
        return net, lambda logits, y: bce(logits[:, 0], y)
    return net, torch.nn.CrossEntropyLoss()


def torch_accuracy(net: Any, X_test: Any, y_test: Any) -> float:
    import torch

    with torch.no_grad():
        return float(hits(net(X_test), y_test).float().mean())


def torch_loop(data: Data, batch: int, device: str = "cpu") -> Any:
    import torch

    torch.manual_seed(0)
    X_, y_, X_t, y_t = (torch.from_numpy(a).to(device) for a in (data.X, data.y, data.X_test, data.y_test))
    net, loss = torch_model(data.sizes)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)

    def epoch() -> None:
        order = torch.randperm(X_.shape[0], device=device)
        for start in range(0, X_.shape[0], batch):
            rows = order[start : start + batch]
            optimizer.zero_grad()
            loss(net(X_[rows]), y_[rows]).backward()
            optimizer.step()
        if device != "cpu":
            torch.cuda.synchronize()

    return epoch, lambda: torch_accuracy(net, X_t, y_t), lambda: "autograd" if device == "cpu" else f"autograd, {device}"


def torch_dataloader(data: Data, batch: int) -> Any:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X_t, y_t = torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)
    loader = DataLoader(TensorDataset(torch.from_numpy(data.X), torch.from_numpy(data.y)), batch_size=batch, shuffle=True)
    net, loss = torch_model(data.sizes)
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)

    def epoch() -> None:
        for X_b, y_b in loader:
            optimizer.zero_grad()
            loss(net(X_b), y_b).backward()
            optimizer.step()

    return epoch, lambda: torch_accuracy(net, X_t, y_t), lambda: "DataLoader"


def sklearn_mlp(data: Data, batch: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    classifier = MLPClassifier(data.hidden, solver="adam", batch_size=batch, learning_rate_init=LEARNING_RATE, random_state=0)
    classes = np.unique(data.y)  # binary: a logistic output; more classes: a softmax one and log-loss

    def epoch() -> None:
        classifier.partial_fit(data.X, data.y, classes=classes)

    return epoch, lambda: float(classifier.score(data.X_test, data.y_test)), lambda: "adam"


def keras_peer(backend: str) -> Callable[..., Any]:
    def make(data: Data, batch: int) -> Any:
        os.environ["KERAS_BACKEND"] = backend
        import keras

        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((data.X.shape[1],)), *(keras.layers.Dense(n, "relu") for n in data.hidden), keras.layers.Dense(data.outputs)]
        )
        if data.outputs == 1:
            loss = keras.losses.BinaryCrossentropy(from_logits=True)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(keras.optimizers.Adam(LEARNING_RATE), loss)

        def epoch() -> None:
            model.fit(data.X, data.y, batch_size=batch, epochs=1, shuffle=True, verbose=0)

        def accuracy() -> float:
            return float(hits(model.predict(data.X_test, batch_size=8192, verbose=0), data.y_test).mean())

        return epoch, accuracy, lambda: backend

    return make


def jax_optax_loop(data: Data, batch: int) -> Any:
    import jax
    import jax.numpy as jnp
    import optax

    X, sizes = data.X, data.sizes
    keys = jax.random.split(jax.random.PRNGKey(0), len(sizes))
    params = [
        (jax.random.normal(k, (n_in, n_out)) * jnp.sqrt(2.0 / n_in), jnp.zeros(n_out))
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])
    ]

    def logits(params: Any, X_b: Any) -> Any:
        for W, b in params[:-1]:
            X_b = jax.nn.relu(X_b @ W + b)
        W, b = params[-1]
        return X_b @ W + b

    def loss(params: Any, X_b: Any, y_b: Any) -> Any:
        if data.outputs == 1:
            return optax.sigmoid_binary_cross_entropy(logits(params, X_b)[:, 0], y_b).mean()
        return optax.softmax_cross_entropy_with_integer_labels(logits(params, X_b), y_b).mean()

    optimizer = optax.adam(LEARNING_RATE)
    state = [params, optimizer.init(params)]

    @jax.jit
    def step(params: Any, opt_state: Any, X_b: Any, y_b: Any) -> Any:
        grads = jax.grad(loss)(params, X_b, y_b)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state

    X_, y_ = jnp.asarray(X), jnp.asarray(data.y)
    rng = np.random.default_rng(0)

    def epoch() -> None:
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch):
            rows = order[start : start + batch]
            state[0], state[1] = step(state[0], state[1], X_[rows], y_[rows])
        jax.block_until_ready(state[0])

    def accuracy() -> float:
        return float(hits(logits(state[0], jnp.asarray(data.X_test)), jnp.asarray(data.y_test)).mean())

    return epoch, accuracy, lambda: "jit step"


MAKERS: dict[str, Callable[..., Any]] = {
    "arraynet-numpy": arraynet_peer("numpy"),
    "arraynet-torch": arraynet_peer("torch"),
    "arraynet-jax": arraynet_peer("jax"),
    "torch-loop": torch_loop,
    "torch-dataloader": torch_dataloader,
    "sklearn-mlp": sklearn_mlp,
    "keras-jax": keras_peer("jax"),
    "keras-torch": keras_peer("torch"),
    "jax-optax-loop": jax_optax_loop,
    "arraynet-cupy": arraynet_peer("cupy"),
    "arraynet-torch-cuda": arraynet_peer("torch", "cuda"),
    "torch-loop-cuda": functools.partial(torch_loop, device="cuda"),
}


def run_peer(peer: str, task: Task, batch: int, m: int, max_epochs: int, target: float, stop_at_target: bool,
             threads: int) -> dict[str, Any]:
    """Train ``peer`` on ``task`` epoch by epoch for ``max_epochs``, or until ``target`` test accuracy
    when ``stop_at_target``; this process only."""
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        if peer.startswith(("torch", "arraynet-torch", "keras-torch")):
            import torch

            torch.set_num_threads(threads)
    data = load(task, m)
    epoch, accuracy, how = MAKERS[peer](data, batch)
    seconds: list[float] = []
    accuracies: list[float] = []
    while len(seconds) < max_epochs:
        start = time.perf_counter()
        epoch()
        seconds.append(time.perf_counter() - start)
        accuracies.append(accuracy())
        if stop_at_target and accuracies[-1] >= target:
            break
    return {"peer": peer, "how": how(), "task": task.name, "batch_size": batch, "m": data.X.shape[0] + data.X_test.shape[0],
            "sizes": data.sizes, "target": target, "epoch_seconds": seconds, "accuracies": accuracies}


def _environment(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    if threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def _available(peer: str) -> bool:
    needs = {"torch": "torch", "keras": "keras", "jax": "jax", "sklearn": "sklearn", "cupy": "cupy"}
    import importlib.util

    modules = [module for prefix, module in needs.items() if prefix in peer]
    if peer == "jax-optax-loop":
        modules.append("optax")
    if peer == "keras-torch":
        modules.append("torch")
    if not all(importlib.util.find_spec(module) is not None for module in modules):
        return False
    if peer in GPU_PEERS:  # a CUDA device that the peer's library sees
        if "cupy" in peer:
            import cupy

            return bool(cupy.is_available())
        import torch

        return bool(torch.cuda.is_available())
    return True


def summarize(runs: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Per (peer, batch size): the median epoch time (the first epoch, which compiles, apart), the
    epochs and the time to ``target`` (to the first epoch reaching it), the final and the best test
    accuracy, medians over the rounds."""
    table: dict[str, Any] = {}
    for run in runs:
        table.setdefault((run["peer"], run["batch_size"]), []).append(run)
    summary = {}
    for (peer, batch), group in table.items():
        later = [s for run in group for s in run["epoch_seconds"][1:]] or [run["epoch_seconds"][0] for run in group]
        reached = [  # (epochs, seconds) to the target, of the rounds that reach it
            (i + 1, sum(run["epoch_seconds"][: i + 1]))
            for run in group
            for i in [next((i for i, a in enumerate(run["accuracies"]) if a >= target), None)]
            if i is not None
        ]
        summary[f"{peer}|{batch}"] = {
            "peer": peer,
            "batch_size": batch,
            "how": group[0]["how"],
            "epoch_seconds": statistics.median(later),
            "first_epoch_seconds": statistics.median(run["epoch_seconds"][0] for run in group),
            "epochs_to_target": statistics.median(e for e, _ in reached) if reached else None,
            "seconds_to_target": statistics.median(s for _, s in reached) if reached else None,
            "rounds_reaching_target": len(reached),
            "final_accuracy": statistics.median(run["accuracies"][-1] for run in group),
            "best_accuracy": statistics.median(max(run["accuracies"]) for run in group),
            "best_epoch": statistics.median(run["accuracies"].index(max(run["accuracies"])) + 1 for run in group),
            "epochs": statistics.median(len(run["accuracies"]) for run in group),
            "rounds": len(group),
        }
    return summary


def _best(rows: list[dict[str, Any]], key: str, arraynet: bool, lowest: bool) -> dict[str, Any] | None:
    """The row of arraynet's (or the peers') with the lowest (or highest) ``key``, None if none has it."""
    rows = [row for row in rows if row["peer"].startswith("arraynet") == arraynet and row[key] is not None]
    return (min if lowest else max)(rows, key=lambda row: row[key]) if rows else None


def report(summary: dict[str, Any], task: Task, sizes: list[int], threads: int, m: int, target: float, max_epochs: int,
           stop_at_target: bool) -> str:
    goal = f"{target:.0%}" if round(target * 100, 6) == round(target * 100) else f"{target:.1%}"
    trained = f"each run stops at {goal}" if stop_at_target else f"each run trains {max_epochs} epochs"
    lines = [
        f"# Mini-batch training against the peers: {task.name} ({time.strftime('%Y-%m-%d')})",
        "",
        (
            f"Task: {task.describe.format(m=m)}, net {'-'.join(map(str, sizes))} ReLU "
            f"({'sigmoid' if task.name == 'binary' else 'softmax'} output), Adam lr {LEARNING_RATE}, float32; target {goal} "
            f"test accuracy; {trained}; {'threads pinned to ' + str(threads) if threads else 'threads unpinned'}; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores. Medians over the rounds; each peer in a "
            "process of its own, peers alternated; evaluation not timed."
        ),
        "",
        (
            f"| peer | batch | epoch s | first epoch s | epochs to {goal} | s to {goal} | final accuracy | best accuracy (epoch) "
            f"| x best peer (s to {goal}) |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    rounds = max(row["rounds"] for row in summary.values())
    for batch in sorted({row["batch_size"] for row in summary.values()}):
        rows = [row for row in summary.values() if row["batch_size"] == batch]
        best_peer = _best(rows, "seconds_to_target", arraynet=False, lowest=True)
        best = best_peer and best_peer["seconds_to_target"]
        for row in sorted(rows, key=lambda row: (PEERS + GPU_PEERS).index(row["peer"])):
            to_target = row["seconds_to_target"]
            ratio = f"{to_target / best:.2f}" if best and to_target else "-"
            epochs = f"{row['epochs_to_target']:g}" if row["epochs_to_target"] else "-"
            if row["epochs_to_target"] and row["rounds_reaching_target"] < row["rounds"]:
                epochs += f" ({row['rounds_reaching_target']}/{row['rounds']} rounds)"
            missing = f", {row['rounds']} of {rounds} rounds ran" if row["rounds"] < rounds else ""
            lines.append(
                f"| {row['peer']} ({row['how']}{missing}) | {batch} | {row['epoch_seconds']:.4f} | {row['first_epoch_seconds']:.3f} | "
                f"{epochs} | {to_target and f'{to_target:.3f}' or '-'} | {row['final_accuracy']:.4f} | "
                f"{row['best_accuracy']:.4f} ({row['best_epoch']:g}) | {ratio} |"
            )
        ours = _best(rows, "seconds_to_target", arraynet=True, lowest=True)
        if ours and best_peer:
            ratio = ours["seconds_to_target"] / best
            notes.append(
                f"- Batch {batch}: arraynet's best time to {goal}, {ours['peer']} {ours['seconds_to_target']:.3f} s, is "
                f"{ratio:.2f}x the best peer's, {best_peer['peer']} {best:.3f} s (0.5x asked: {'met' if ratio <= 0.5 else 'missed'})."
            )
        if not stop_at_target:
            ours, theirs = (_best(rows, "best_accuracy", arraynet=a, lowest=False) for a in (True, False))
            if ours and theirs:
                gap = 100 * (theirs["best_accuracy"] - ours["best_accuracy"])
                notes.append(
                    f"- Batch {batch}: the best accuracy within {max_epochs} epochs, arraynet's {ours['best_accuracy']:.4f} "
                    f"({ours['peer']}) against the best peer's {theirs['best_accuracy']:.4f} ({theirs['peer']}): "
                    f"{abs(gap):.2f} points {'behind' if gap > 0 else 'ahead'} (within 0.5 asked: {'met' if gap <= 0.5 else 'missed'})."
                )
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, default="binary")
    parser.add_argument("--peer", choices=PEERS + GPU_PEERS, help="run one peer in this process and print its run as JSON")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated peers for the driver (on a CUDA GPU also {', '.join(GPU_PEERS)})")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the task's (binary 256, digits 32, multiclass 256)")
    parser.add_argument("--batch-sizes", default=None, help="comma-separated batch sizes for the driver")
    parser.add_argument("--m", type=int, default=None, help="examples of a synthetic task (binary 250,000, multiclass 200,000)")
    parser.add_argument("--target", type=float, default=None, help="test accuracy to reach (binary 0.95, digits 0.95, multiclass 0.85)")
    parser.add_argument("--max-epochs", type=int, default=None, help="default: the task's (binary 20, digits 50, multiclass 15)")
    parser.add_argument("--stop-at-target", action=argparse.BooleanOptionalAction, default=None,
                        help="stop each run at the target (default: binary yes, else train --max-epochs for the best accuracy)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="threads per peer (0: the libraries' defaults)")
    parser.add_argument("--output", type=Path, default=None,
                        help="folder for minibatch[-TASK]-DATE[-Nthread].{json,md} (no TASK for binary)")
    arguments = parser.parse_args()
    task = TASKS[arguments.task]
    m = arguments.m or task.m
    target = task.target if arguments.target is None else arguments.target
    max_epochs = arguments.max_epochs or task.max_epochs
    stop_at_target = task.stop_at_target if arguments.stop_at_target is None else arguments.stop_at_target
    if arguments.peer:
        run = run_peer(arguments.peer, task, arguments.batch_size or task.batch_size, m, max_epochs, target, stop_at_target,
                       arguments.threads)
        print(json.dumps(run))
        return
    batches = [int(b) for b in (arguments.batch_sizes or str(arguments.batch_size or task.batch_size)).split(",")]
    peers = [peer for peer in arguments.peers.split(",") if _available(peer)]
    skipped = sorted(set(arguments.peers.split(",")) - set(peers))
    if skipped:
        print(f"skipped (not installed): {', '.join(skipped)}", file=sys.stderr)
    runs: list[dict[str, Any]] = []
    for round_number in range(arguments.rounds):
        for batch in batches:
            for peer in peers:
                command = [sys.executable, __file__, "--peer", peer, "--task", task.name, "--batch-size", str(batch),
                           "--m", str(m), "--target", repr(target), "--max-epochs", str(max_epochs),
                           "--stop-at-target" if stop_at_target else "--no-stop-at-target", "--threads", str(arguments.threads)]
                if arguments.threads:
                    command = ["taskset", "-c", ",".join(map(str, range(arguments.threads))), *command]
                done = subprocess.run(command, capture_output=True, text=True, env=_environment(arguments.threads), check=False)
                if done.returncode:
                    print(f"{peer} batch {batch} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                    continue
                run = json.loads(done.stdout.strip().splitlines()[-1])
                runs.append(run)
                print(f"round {round_number + 1} {peer:18} b={batch:5d} epochs {len(run['epoch_seconds']):2d} "
                      f"epoch {statistics.median(run['epoch_seconds']):.4f} s accuracy {run['accuracies'][-1]:.4f} "
                      f"best {max(run['accuracies']):.4f}", file=sys.stderr)
        if runs:  # written after each round: a run cut short keeps the rounds it finished
            text = write(runs, task, m, target, max_epochs, stop_at_target, arguments.threads, peers, arguments.output)
    if runs:
        print(text)


def write(runs: list[dict[str, Any]], task: Task, m: int, target: float, max_epochs: int, stop_at_target: bool, threads: int,
          peers: list[str], output: Path | None) -> str:
    """The report of ``runs`` so far; with ``output``, written there with the runs as JSON."""
    summary = summarize(runs, target)
    text = report(summary, task, runs[0]["sizes"], threads, m, target, max_epochs, stop_at_target)
    if output:
        name = "minibatch" if task.name == "binary" else f"minibatch-{task.name}"
        stem = f"{name}-{time.strftime('%Y-%m-%d')}" + (f"-{threads}thread" if threads else "")
        stem += "-gpu" if set(peers) & set(GPU_PEERS) else ""
        output.mkdir(parents=True, exist_ok=True)
        settings = {"task": task.name, "m": m, "target": target, "max_epochs": max_epochs, "stop_at_target": stop_at_target,
                    "threads": threads, "learning_rate": LEARNING_RATE}
        (output / f"{stem}.json").write_text(json.dumps({"settings": settings, "runs": runs, "summary": list(summary.values())}, indent=1))
        (output / f"{stem}.md").write_text(text)
    return text


if __name__ == "__main__":
    main()
