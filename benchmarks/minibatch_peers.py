"""Mini-batch training against the peers: time per epoch and time to 95% test accuracy.

The task (issue 19): ``make_classification(n_samples=250_000, n_features=40, n_informative=20,
n_redundant=5, n_clusters_per_class=4, class_sep=0.8, flip_y=0.01, random_state=0)``, standardized,
float32, the last 50,000 held out; the net 40-64-32-1 ReLU with a sigmoid output, Adam (learning
rate 1e-3, the peers' defaults otherwise), the same batch size everywhere.

Each peer runs in a process of its own (a fresh interpreter, its library's threads pinned as the
driver says), trains epoch by epoch and reports each epoch's seconds and the test accuracy after
it (evaluation is not timed); the driver alternates the peers round by round and reports medians.
Time to 95% is the training time up to the first epoch whose test accuracy reaches 0.95.

    python benchmarks/minibatch_peers.py                      # all peers, batch 256, 3 rounds
    python benchmarks/minibatch_peers.py --batch-sizes 32,256,4096 --threads 1 --rounds 3 --output benchmarks/results
    python benchmarks/minibatch_peers.py --peer torch-loop --batch-size 256   # one run, JSON on stdout

Peers: arraynet on NumPy, PyTorch CPU and JAX (whatever step ``fit`` picks), a PyTorch user's
idiomatic loop (``randperm``, indexing, ``zero_grad``/``backward``/``step``), PyTorch with a
``DataLoader``, scikit-learn's ``MLPClassifier`` (adam), Keras 3 on JAX and on PyTorch, and a JAX
user's jitted Optax step in a Python loop over batches. Those not installed are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TARGET = 0.95
LEARNING_RATE = 1e-3
HIDDEN = (64, 32)
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


def task(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)``, examples in rows, float32, standardized on the
    training part; the last fifth held out."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=m, n_features=40, n_informative=20, n_redundant=5, n_clusters_per_class=4,
        class_sep=0.8, flip_y=0.01, random_state=0,
    )
    split = m - m // 5
    mean, std = X[:split].mean(axis=0), X[:split].std(axis=0)
    X = ((X - mean) / std).astype(np.float32)
    y = y.astype(np.float32)
    return X[:split], y[:split], X[split:], y[split:]


# -- the peers: each returns epoch(), accuracy() ---------------------------------------------------
def arraynet_peer(backend: str) -> Callable[..., Any]:
    def make(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, batch: int) -> Any:
        import arraynet

        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", False)
        X_, Y_ = arraynet.asarray(X.T.copy(), backend), arraynet.asarray(y.reshape(1, -1), backend)
        X_t, Y_t = arraynet.asarray(X_test.T.copy(), backend), arraynet.asarray(y_test.reshape(1, -1), backend)
        model = arraynet.NeuralNetwork([X.shape[1], *HIDDEN, 1], seed=0)
        steps: list[str] = []

        def epoch() -> None:
            history = model.fit(X_, Y_, LEARNING_RATE, optimizer="adam", batch_size=batch, epochs=1, progress=False)
            steps.append(history.step)

        return epoch, lambda: model.accuracy(X_t, Y_t), lambda: steps[-1]

    return make


def torch_model(n_x: int) -> Any:
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(n_x, HIDDEN[0]), torch.nn.ReLU(), torch.nn.Linear(*HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN[1], 1)
    )


def torch_accuracy(net: Any, X_test: Any, y_test: Any) -> float:
    import torch

    with torch.no_grad():
        return float(((net(X_test)[:, 0] > 0).float() == y_test).float().mean())


def torch_loop(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, batch: int) -> Any:
    import torch

    torch.manual_seed(0)
    X_, y_, X_t, y_t = (torch.from_numpy(a) for a in (X, y, X_test, y_test))
    net = torch_model(X.shape[1])
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    loss = torch.nn.BCEWithLogitsLoss()

    def epoch() -> None:
        order = torch.randperm(X_.shape[0])
        for start in range(0, X_.shape[0], batch):
            rows = order[start : start + batch]
            optimizer.zero_grad()
            loss(net(X_[rows])[:, 0], y_[rows]).backward()
            optimizer.step()

    return epoch, lambda: torch_accuracy(net, X_t, y_t), lambda: "autograd"


def torch_dataloader(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, batch: int) -> Any:
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X_t, y_t = torch.from_numpy(X_test), torch.from_numpy(y_test)
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=batch, shuffle=True)
    net = torch_model(X.shape[1])
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    loss = torch.nn.BCEWithLogitsLoss()

    def epoch() -> None:
        for X_b, y_b in loader:
            optimizer.zero_grad()
            loss(net(X_b)[:, 0], y_b).backward()
            optimizer.step()

    return epoch, lambda: torch_accuracy(net, X_t, y_t), lambda: "DataLoader"


def sklearn_mlp(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, batch: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    classifier = MLPClassifier(HIDDEN, solver="adam", batch_size=batch, learning_rate_init=LEARNING_RATE, random_state=0)
    classes = np.array([0.0, 1.0], dtype=np.float32)

    def epoch() -> None:
        classifier.partial_fit(X, y, classes=classes)

    return epoch, lambda: float(classifier.score(X_test, y_test)), lambda: "adam"


def keras_peer(backend: str) -> Callable[..., Any]:
    def make(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, batch: int) -> Any:
        os.environ["KERAS_BACKEND"] = backend
        import keras

        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((X.shape[1],)), keras.layers.Dense(HIDDEN[0], "relu"), keras.layers.Dense(HIDDEN[1], "relu"), keras.layers.Dense(1)]
        )
        model.compile(keras.optimizers.Adam(LEARNING_RATE), keras.losses.BinaryCrossentropy(from_logits=True))

        def epoch() -> None:
            model.fit(X, y, batch_size=batch, epochs=1, shuffle=True, verbose=0)

        def accuracy() -> float:
            return float(((model.predict(X_test, batch_size=8192, verbose=0)[:, 0] > 0) == y_test).mean())

        return epoch, accuracy, lambda: backend

    return make


def jax_optax_loop(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, batch: int) -> Any:
    import jax
    import jax.numpy as jnp
    import optax

    sizes = [X.shape[1], *HIDDEN, 1]
    keys = jax.random.split(jax.random.PRNGKey(0), len(sizes))
    params = [
        (jax.random.normal(k, (n_in, n_out)) * jnp.sqrt(2.0 / n_in), jnp.zeros(n_out))
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:])
    ]

    def logits(params: Any, X_b: Any) -> Any:
        for W, b in params[:-1]:
            X_b = jax.nn.relu(X_b @ W + b)
        W, b = params[-1]
        return (X_b @ W + b)[:, 0]

    def loss(params: Any, X_b: Any, y_b: Any) -> Any:
        return optax.sigmoid_binary_cross_entropy(logits(params, X_b), y_b).mean()

    optimizer = optax.adam(LEARNING_RATE)
    state = [params, optimizer.init(params)]

    @jax.jit
    def step(params: Any, opt_state: Any, X_b: Any, y_b: Any) -> Any:
        grads = jax.grad(loss)(params, X_b, y_b)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state

    X_, y_ = jnp.asarray(X), jnp.asarray(y)
    rng = np.random.default_rng(0)

    def epoch() -> None:
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch):
            rows = order[start : start + batch]
            state[0], state[1] = step(state[0], state[1], X_[rows], y_[rows])
        jax.block_until_ready(state[0])

    def accuracy() -> float:
        return float(((logits(state[0], jnp.asarray(X_test)) > 0) == jnp.asarray(y_test)).mean())

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
}


def run_peer(peer: str, batch: int, m: int, max_epochs: int, threads: int) -> dict[str, Any]:
    """Train ``peer`` epoch by epoch until TARGET test accuracy or ``max_epochs``; this process only."""
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        if peer.startswith(("torch", "arraynet-torch", "keras-torch")):
            import torch

            torch.set_num_threads(threads)
    X, y, X_test, y_test = task(m)
    epoch, accuracy, how = MAKERS[peer](X, y, X_test, y_test, batch)
    seconds: list[float] = []
    accuracies: list[float] = []
    while len(seconds) < max_epochs:
        start = time.perf_counter()
        epoch()
        seconds.append(time.perf_counter() - start)
        accuracies.append(accuracy())
        if accuracies[-1] >= TARGET:
            break
    return {"peer": peer, "how": how(), "batch_size": batch, "m": m, "epoch_seconds": seconds, "accuracies": accuracies}


def _environment(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    if threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def _available(peer: str) -> bool:
    needs = {"torch": "torch", "keras": "keras", "jax": "jax", "sklearn": "sklearn"}
    import importlib.util

    modules = [module for prefix, module in needs.items() if prefix in peer]
    if peer == "jax-optax-loop":
        modules.append("optax")
    if peer == "keras-torch":
        modules.append("torch")
    return all(importlib.util.find_spec(module) is not None for module in modules)


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (peer, batch size): the median epoch time (the first epoch, which compiles, apart), the
    epochs to TARGET and the median time to TARGET over the rounds."""
    table: dict[str, Any] = {}
    for run in runs:
        table.setdefault((run["peer"], run["batch_size"]), []).append(run)
    summary = {}
    for (peer, batch), group in table.items():
        later = [s for run in group for s in run["epoch_seconds"][1:]] or [run["epoch_seconds"][0] for run in group]
        reached = [run for run in group if run["accuracies"][-1] >= TARGET]
        summary[f"{peer}|{batch}"] = {
            "peer": peer,
            "batch_size": batch,
            "how": group[0]["how"],
            "epoch_seconds": statistics.median(later),
            "first_epoch_seconds": statistics.median(run["epoch_seconds"][0] for run in group),
            "epochs_to_target": statistics.median(len(run["epoch_seconds"]) for run in reached) if reached else None,
            "seconds_to_target": statistics.median(sum(run["epoch_seconds"]) for run in reached) if reached else None,
            "final_accuracy": statistics.median(run["accuracies"][-1] for run in group),
            "rounds": len(group),
        }
    return summary


def report(summary: dict[str, Any], threads: int, m: int) -> str:
    lines = [
        f"# Mini-batch training against the peers ({time.strftime('%Y-%m-%d')})",
        "",
        (
            f"Task: make_classification m = {m} (a fifth held out), 40 features, net 40-64-32-1 ReLU, Adam lr {LEARNING_RATE}, "
            f"float32; {'threads pinned to ' + str(threads) if threads else 'threads unpinned'}; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores. Medians over the rounds; each peer in a "
            "process of its own, peers alternated."
        ),
        "",
        f"| peer | batch | epoch s | first epoch s | epochs to {TARGET:.0%} | s to {TARGET:.0%} | final accuracy | x best peer (s to {TARGET:.0%}) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for batch in sorted({row["batch_size"] for row in summary.values()}):
        rows = [row for row in summary.values() if row["batch_size"] == batch]
        peers = [row["seconds_to_target"] for row in rows if not row["peer"].startswith("arraynet") and row["seconds_to_target"]]
        best = min(peers) if peers else None
        for row in sorted(rows, key=lambda row: PEERS.index(row["peer"])):
            to_target = row["seconds_to_target"]
            ratio = f"{to_target / best:.2f}" if best and to_target else "-"
            lines.append(
                f"| {row['peer']} ({row['how']}) | {batch} | {row['epoch_seconds']:.3f} | {row['first_epoch_seconds']:.3f} | "
                f"{row['epochs_to_target'] or '-'} | {to_target and f'{to_target:.2f}' or '-'} | {row['final_accuracy']:.4f} | {ratio} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=PEERS, help="run one peer in this process and print its run as JSON")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers for the driver")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--batch-sizes", default=None, help="comma-separated batch sizes for the driver")
    parser.add_argument("--m", type=int, default=250_000)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="threads per peer (0: the libraries' defaults)")
    parser.add_argument("--output", type=Path, default=None, help="folder for minibatch-DATE[-Nthread].{json,md}")
    arguments = parser.parse_args()
    if arguments.peer:
        print(json.dumps(run_peer(arguments.peer, arguments.batch_size, arguments.m, arguments.max_epochs, arguments.threads)))
        return
    batches = [int(b) for b in (arguments.batch_sizes or str(arguments.batch_size)).split(",")]
    peers = [peer for peer in arguments.peers.split(",") if _available(peer)]
    skipped = sorted(set(arguments.peers.split(",")) - set(peers))
    if skipped:
        print(f"skipped (not installed): {', '.join(skipped)}", file=sys.stderr)
    runs = []
    for round_number in range(arguments.rounds):
        for batch in batches:
            for peer in peers:
                command = [sys.executable, __file__, "--peer", peer, "--batch-size", str(batch), "--m", str(arguments.m),
                           "--max-epochs", str(arguments.max_epochs), "--threads", str(arguments.threads)]
                if arguments.threads:
                    command = ["taskset", "-c", ",".join(map(str, range(arguments.threads))), *command]
                done = subprocess.run(command, capture_output=True, text=True, env=_environment(arguments.threads), check=False)
                if done.returncode:
                    print(f"{peer} batch {batch} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                    continue
                run = json.loads(done.stdout.strip().splitlines()[-1])
                runs.append(run)
                print(f"round {round_number + 1} {peer:18} b={batch:5d} epochs {len(run['epoch_seconds']):2d} "
                      f"epoch {statistics.median(run['epoch_seconds']):.3f} s accuracy {run['accuracies'][-1]:.4f}", file=sys.stderr)
    summary = summarize(runs)
    text = report(summary, arguments.threads, arguments.m)
    print(text)
    if arguments.output:
        stem = f"minibatch-{time.strftime('%Y-%m-%d')}" + (f"-{arguments.threads}thread" if arguments.threads else "")
        arguments.output.mkdir(parents=True, exist_ok=True)
        (arguments.output / f"{stem}.json").write_text(json.dumps({"runs": runs, "summary": list(summary.values())}, indent=1))
        (arguments.output / f"{stem}.md").write_text(text)


if __name__ == "__main__":
    main()
