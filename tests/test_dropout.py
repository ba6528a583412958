"""Inverted dropout [C2 2.2]: ``NeuralNetwork(..., keep_prob=...)`` drops hidden units in training
only; its masks come from a counter-based hash of (seed, update, layer, unit, example), written with
int32 Array API operations that never overflow, so every backend and every step draws the same
masks and trains to the same numbers; ``keep_prob=1`` is no dropout, bit for bit; backpropagation
through the masks agrees with centered differences; the model saves and resumes with it."""

from __future__ import annotations

import array_api_compat.numpy
import numpy as np
import pytest

import arraynet
from arraynet.backends import to_numpy
from arraynet.kernel import dropout as dropout_module
from arraynet.kernel.cost import cost_from_logits
from arraynet.kernel.dropout import Dropout, dropout_keys, dropout_mask
from arraynet.kernel.propagation import _backward, _forward, check_activations

from .conftest import backend_cases

X_FLOWER, Y_FLOWER = arraynet.load_flower()
ADAM = {"learning_rate": 0.01, "optimizer": "adam", "batch_size": 64, "epochs": 3}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def network(keep_prob=0.8, seed=1, **options):
    return arraynet.NeuralNetwork([2, 8, 6, 1], keep_prob=keep_prob, seed=seed, **options)


# -- the masks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(), indirect=True)
def test_every_backend_draws_numpys_masks(backend_case, xp, to_xp):
    examples = np.array([0, 7, 65535, 65536, 2**31 - 1, 123456789], dtype=np.int32)
    key = dropout_keys(3, 0, 17, 2)[1]
    expected = dropout_mask(key, examples, 5, 0.6, array_api_compat.numpy, np.float64)
    mask = dropout_mask(key, to_xp(examples), 5, 0.6, xp, xp.float32)
    assert tuple(mask.shape) == (5, 6) and mask.dtype == xp.float32
    np.testing.assert_array_equal(to_numpy(mask), expected)


def test_the_masks_keep_each_unit_with_probability_keep_prob_independently():
    import array_api_compat.numpy as xp

    examples = np.arange(100_000, dtype=np.int32)
    D = dropout_mask(dropout_keys(0, 0, 1, 1)[0], examples, 64, 0.8, xp, np.float64)
    assert set(np.unique(D)) == {0.0, 1.0}
    assert abs(D.mean() - 0.8) < 4 * np.sqrt(0.16 / D.size)  # 6.4 million draws
    per_unit, per_example = D.mean(axis=1), D.mean(axis=0)
    assert per_unit.std() < 2 * np.sqrt(0.16 / 100_000) and abs(per_example.std() - np.sqrt(0.16 / 64)) < 0.005
    # neighbouring units, neighbouring examples, examples 2^16 apart (the hash's lanes) and the next
    # update: uncorrelated
    next_update = dropout_mask(dropout_keys(0, 0, 2, 1)[0], examples, 64, 0.8, xp, np.float64)
    for a, b in [(D[:-1], D[1:]), (D[:, :-1], D[:, 1:]), (D[:, :34464], D[:, 65536:]), (D, next_update)]:
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.01
    # another seed, another layer: other masks
    assert not np.array_equal(D, dropout_mask(dropout_keys(1, 0, 1, 1)[0], examples, 64, 0.8, xp, np.float64))
    assert not np.array_equal(D, dropout_mask(dropout_keys(0, 0, 1, 2)[1], examples, 64, 0.8, xp, np.float64))


def test_the_hash_never_leaves_int32s_range():
    """Every intermediate of the rounds, computed in int64 for the largest inputs, stays below 2^31."""
    highest = 0

    class Watched(np.ndarray):
        def __array_wrap__(self, array, context=None, return_scalar=False):
            nonlocal highest
            highest = max(highest, int(np.max(array)))
            return super().__array_wrap__(array, context, return_scalar)

    lanes = np.arange(0, 2**16, dtype=np.int64).view(Watched)
    dropout_module._rounds(lanes, lanes[::-1])
    assert 2**30 < highest < 2**31


def test_a_batch_draws_the_masks_of_its_examples_wherever_they_sit():
    import array_api_compat.numpy as xp

    key = dropout_keys(5, 0, 9, 1)[0]
    everyone = dropout_mask(key, np.arange(400, dtype=np.int32), 6, 0.5, xp, np.float64)
    batch = np.array([17, 3, 399, 200], dtype=np.int32)
    np.testing.assert_array_equal(dropout_mask(key, batch, 6, 0.5, xp, np.float64), everyone[:, batch])


# -- the math -----------------------------------------------------------------------------------
def test_backpropagation_through_the_masks_agrees_with_centered_differences():
    """With the masks fixed, the gradients of the thinned network's cost are its derivatives [C2 4]."""
    import array_api_compat.numpy as xp

    activations = check_activations(["tanh", "sigmoid", "sigmoid"], 3)
    parameters = arraynet.initialize_parameters([2, 5, 4, 1], "xavier", 3)
    X, Y = X_FLOWER[:, :30], Y_FLOWER[:, :30]
    dropout = Dropout((0.6, 0.8), dropout_keys(0, 0, 1, 2), np.arange(30, dtype=np.int32))

    def cost(values):
        _, caches = _forward(values, X, activations, xp, dropout)
        return float(cost_from_logits(caches[-1].Z, Y, xp))

    AL, caches = _forward(parameters, X, activations, xp, dropout)
    assert caches[0].D is not None and caches[1].D is not None and caches[2].D is None
    assert not np.array_equal(caches[1].A_prev, caches[0].A)  # the next layer takes the thinned A
    grads = _backward(AL, Y, caches, activations, xp)
    for key, value in parameters.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = {**parameters, key: value.copy()}, {**parameters, key: value.copy()}
            plus[key][index] += 1e-7
            minus[key][index] -= 1e-7
            numeric[index] = (cost(plus) - cost(minus)) / 2e-7
        difference = np.linalg.norm(grads[f"d{key}"] - numeric) / (np.linalg.norm(grads[f"d{key}"]) + np.linalg.norm(numeric))
        assert difference < 1e-7, key


def test_keep_prob_1_is_no_dropout_bit_for_bit_and_prediction_never_drops():
    plain, kept = arraynet.NeuralNetwork([2, 8, 6, 1], seed=1), network(keep_prob=[1.0, 1.0])
    assert kept.keep_prob == () and plain.fit(X_FLOWER, Y_FLOWER, **ADAM).costs == kept.fit(X_FLOWER, Y_FLOWER, **ADAM).costs
    dropped = network(0.5)
    dropped.fit(X_FLOWER, Y_FLOWER, **ADAM)
    twin = arraynet.NeuralNetwork([2, 8, 6, 1], seed=1)
    twin.set_parameters(dropped.get_parameters())
    np.testing.assert_array_equal(dropped.predict_proba(X_FLOWER), twin.predict_proba(X_FLOWER))
    assert dropped.cost(X_FLOWER, Y_FLOWER) == twin.cost(X_FLOWER, Y_FLOWER)


def test_dropout_changes_training_reproducibly_from_the_seed():
    first, again, other = network(0.7).fit(X_FLOWER, Y_FLOWER, **ADAM), network(0.7).fit(X_FLOWER, Y_FLOWER, **ADAM), network(0.7)
    plain = arraynet.NeuralNetwork([2, 8, 6, 1], seed=1).fit(X_FLOWER, Y_FLOWER, **ADAM)
    assert first.costs == again.costs and first.costs != plain.costs
    other.seed = 2
    other.set_parameters(arraynet.initialize_parameters([2, 8, 6, 1], "he", 1))
    assert other.fit(X_FLOWER, Y_FLOWER, **ADAM).costs != first.costs


# -- every step, every backend ------------------------------------------------------------------
@pytest.mark.parametrize("backend_case", backend_cases(("float64", "float32")), indirect=True)
@pytest.mark.parametrize("shuffle", [True, False])
def test_every_backend_and_step_trains_to_numpys_generic_numbers(shuffle, backend_case, xp, to_xp):
    dtype = backend_case.case.dtype
    options = {**ADAM, "shuffle": shuffle}
    expected = network([0.7, 0.9]).fit(X_FLOWER.astype(dtype), Y_FLOWER.astype(dtype), **options, fast_paths=False)
    X, Y = to_xp(X_FLOWER, dtype), to_xp(Y_FLOWER, dtype)
    generic = network([0.7, 0.9]).fit(X, Y, **options, fast_paths=False)
    fast = network([0.7, 0.9]).fit(X, Y, **options)
    assert generic.step == "generic"
    if fast.step == "buffered":  # the same operations: bit for bit
        assert fast.costs == generic.costs
    else:  # a compiler's order: to rounding, with the same masks
        np.testing.assert_allclose(fast.costs, generic.costs, rtol=1e-5 if dtype == "float32" else 1e-12)
    # another library's arithmetic: to rounding, with the same masks
    np.testing.assert_allclose(generic.costs, expected.costs, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_batch_gradient_descent_with_dropout_counts_each_iteration_as_an_epoch_of_one_batch():
    model = network(0.8)
    history = model.fit(X_FLOWER, Y_FLOWER, 0.3, num_iterations=4, record_every=1)
    assert history.unit == "epoch" and history.updates == 4 and len(history.costs) == 4


# -- the doors ----------------------------------------------------------------------------------
def test_bad_keep_prob_is_said_in_one_line():
    for bad in (0, 1.5, -0.2, float("nan"), [0.5], [0.5, 0.5, 0.5], "0.5", None, [0.5, "a"], True):
        with pytest.raises(ValueError, match=r"^keep_prob must be") as error:
            network(bad)
        assert "\n" not in str(error.value)

    for good, expected in ((np.float32(0.5), (0.5, 0.5)), (np.array([0.5, 0.25]), (0.5, 0.25)), ([1, 1.0], ())):
        assert network(good).keep_prob == expected
    with pytest.raises(ValueError, match=r"^keep_prob=0.5 drops hidden units \[C2 2.2\]; this network has none"):
        arraynet.NeuralNetwork([2, 1], keep_prob=0.5)
    with pytest.raises(ValueError, match=r"at least 2\^-16; got 1e-06"):
        network(1e-6)
    model = network(1.0)
    model.keep_prob = 0.5  # set later: checked as the constructor checks it
    assert model.keep_prob == (0.5, 0.5) and "keep_prob=[0.5, 0.5]" in repr(model)
    with pytest.raises(ValueError, match=r"^keep_prob must be in \(0, 1\]"):
        model.keep_prob = 2

    class OwnForward(arraynet.NeuralNetwork):
        def _forward(self, parameters, X, xp):
            return super()._forward(parameters, X, xp)

    with pytest.raises(ValueError, match="keep_prob=.*needs NeuralNetwork's own forward"):
        OwnForward([2, 4, 1], keep_prob=0.5).fit(X_FLOWER, Y_FLOWER, **ADAM)


def test_a_saved_model_keeps_its_keep_prob_and_resumes_with_the_same_masks(tmp_path):
    model = network([0.7, 0.9])
    model.fit(X_FLOWER, Y_FLOWER, **ADAM)
    loaded = arraynet.load(model.save(tmp_path / "dropout.npz"))
    assert loaded.keep_prob == (0.7, 0.9) and "keep_prob=[0.7, 0.9]" in repr(loaded)
    options = {**ADAM, "epochs": 1}
    assert loaded.fit(X_FLOWER, Y_FLOWER, **options).costs == model.fit(X_FLOWER, Y_FLOWER, **options).costs


def test_the_gradient_check_runs_with_dropout_off():
    model = network(0.5)
    model.fit(X_FLOWER[:, ::20], Y_FLOWER[:, ::20], 0.1, num_iterations=3)
    assert arraynet.gradient_check(model, X_FLOWER[:, ::20], Y_FLOWER[:, ::20]) < 1e-7


@pytest.mark.parametrize("chunks", ["numpy", "jax"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_a_dask_chunk_draws_the_masks_of_its_examples_as_numpy_does(shuffle, chunks, monkeypatch):
    """Each chunk's task (the buffered step on NumPy chunks, the compiled one on JAX chunks) draws
    the masks of its examples' indices in the whole data set: the fit is NumPy's in memory over the
    same batches (unshuffled, chunks of whole batches: memory's own order; shuffled: the chain's
    order of the chunks and of each chunk's examples, replayed in memory by a callable shuffle)."""
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    from arraynet.steps import distributed

    if chunks == "jax":
        jnp = pytest.importorskip("jax.numpy")
        arraynet.backends.enable_jax_float64()  # as the suite's JAX cases run (conftest)
    convert = (lambda block: block) if chunks == "numpy" else (lambda block: jnp.asarray(block))
    orders, steps, original_orders, original_epoch = [], [], distributed.DaskEpochStep._orders, distributed.DaskEpochStep.epoch

    def recorded_orders(step, plan):
        chain, drawn = original_orders(step, plan)
        within = [np.arange(step._blocks[j][2]) if order is None else order for j, order in zip(chain, drawn)]
        orders.append(np.concatenate([step._starts[j] + order for j, order in zip(chain, within)]))
        return chain, drawn

    def recorded_epoch(step, plan):
        cost = original_epoch(step, plan)
        steps.append(step.chunk_steps)
        return cost

    monkeypatch.setattr(distributed.DaskEpochStep, "_orders", recorded_orders)
    monkeypatch.setattr(distributed.DaskEpochStep, "epoch", recorded_epoch)
    options = {"learning_rate": 0.01, "optimizer": "adam", "batch_size": 25, "epochs": 2}
    X = da.from_array(X_FLOWER, chunks=(2, 100)).map_blocks(convert)
    Y = da.from_array(Y_FLOWER, chunks=(1, 100)).map_blocks(convert)
    with dask.config.set(scheduler="synchronous"):
        on_dask = network([0.7, 0.9]).fit(X, Y, **options, shuffle=shuffle)
    assert on_dask.step == "dask" and steps[-1] == (("buffered" if chunks == "numpy" else "compiled"),) * 4
    in_memory = network([0.7, 0.9]).fit(X_FLOWER, Y_FLOWER, **options, shuffle=(lambda epoch: orders[epoch]) if shuffle else False)
    np.testing.assert_allclose(on_dask.costs, in_memory.costs, rtol=1e-12)
    assert on_dask.costs != network(1.0).fit(X_FLOWER, Y_FLOWER, **options, shuffle=False).costs  # the masks were applied
