"""Forward propagation, backpropagation and the gradient-descent update of an L-layer network
[C1 3.1, 3.5, 4.4], vectorized over the m examples (columns) of ``X``.

The underscored functions are the kernel: they take the namespace ``xp`` and do no checking, so
that a training loop pays for neither. The public functions check their input, resolve ``xp`` once
and call them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, NamedTuple

from .._validation import (
    as_array,
    as_matrix,
    check_learning_rate,
    check_mapping,
    check_parameters,
    check_shapes,
    check_X,
)
from .activations import Activation, ActivationLike, Sigmoid, Softmax, get_activation
from .cost import check_predictions
from .dropout import Dropout

__all__ = ["LayerCache", "backward", "forward", "update"]


class LayerCache(NamedTuple):
    """What layer l's forward step keeps for its backward step."""

    A_prev: Any  # A^[l-1], shape (n_{l-1}, m), after layer l-1's dropout
    W: Any  # W^[l], shape (n_l, n_{l-1})
    Z: Any  # Z^[l], shape (n_l, m)
    A: Any  # A^[l] = g^[l](Z^[l]), shape (n_l, m), before dropout
    D: Any = None  # D^[l], the dropout mask of A^[l] [C2 2.2] (None: no dropout)
    keep_prob: float = 1.0  # its keep_prob


def _forward(
    parameters: Mapping[str, Any], X: Any, activations: Sequence[Activation], xp: ModuleType, dropout: Dropout | None = None
) -> tuple[Any, list[LayerCache]]:
    """``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])`` for l = 1..L, ``A^[0] = X``
    [C1 3.1]; with ``dropout``, each hidden layer's ``A^[l] = A^[l] * D^[l] / keep_prob`` [C2 2.2]
    after its cache keeps ``g^[l](Z^[l])`` (what ``g``'s derivative takes) and ``D^[l]``."""
    A = X
    caches = []
    L = len(activations)
    for l, g in enumerate(activations, start=1):
        W = parameters[f"W{l}"]
        Z = W @ A + parameters[f"b{l}"]
        A_next = g.forward(Z, xp)
        D = None if dropout is None or l == L else dropout.mask(l, A_next, xp)
        if D is None:
            caches.append(LayerCache(A, W, Z, A_next))
            A = A_next
        else:
            keep_prob = dropout.keep_prob[l - 1]  # type: ignore[union-attr]
            caches.append(LayerCache(A, W, Z, A_next, D, keep_prob))
            A = A_next * D / keep_prob
    return A, caches


def _backward(
    AL: Any, Y: Any, caches: Sequence[LayerCache], activations: Sequence[Activation], xp: ModuleType
) -> dict[str, Any]:
    """Gradients of the cross-entropy cost [C1 3.5], for a sigmoid output layer:

    ``dZ^[L] = A^[L] - Y`` [C1 2.7], then for l = L..1
    ``dW^[l] = (1/m) dZ^[l] A^[l-1]^T``, ``db^[l] = (1/m) sum_i dz^[l](i)``,
    ``dA^[l-1] = W^[l]^T dZ^[l]``, ``dZ^[l-1] = dA^[l-1] * g^[l-1]'(Z^[l-1])``; where forward
    dropped units of ``A^[l-1]``, first ``dA^[l-1] = dA^[l-1] * D^[l-1] / keep_prob`` [C2 2.2].

    Backpropagation is linear in ``dZ``, so the ``1/m`` is applied once, to ``dZ^[L]``, rather than
    to every ``dW`` and ``db``. ``dA^[0]`` is never computed: nothing uses it.
    """
    m = AL.shape[1]
    dZ = (AL - Y) * (1.0 / m)
    grads = {}
    for l in range(len(caches), 0, -1):
        cache = caches[l - 1]
        grads[f"dW{l}"] = dZ @ cache.A_prev.T
        grads[f"db{l}"] = xp.sum(dZ, axis=1, keepdims=True)
        if l > 1:
            below = caches[l - 2]
            dA = cache.W.T @ dZ
            if below.D is not None:
                dA = dA * below.D / below.keep_prob
            dZ = activations[l - 2].backward(dA, below.Z, below.A, xp)
    return grads


def _update(parameters: Mapping[str, Any], grads: Mapping[str, Any], learning_rate: float) -> dict[str, Any]:
    """``W^[l] = W^[l] - alpha dW^[l]``, ``b^[l] = b^[l] - alpha db^[l]`` [C1 3.5], as new arrays."""
    return {key: value - learning_rate * grads[f"d{key}"] for key, value in parameters.items()}


def network_shapes(layer_dims: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter of a network of sizes ``layer_dims`` [C1 3.1]."""
    shapes: dict[str, tuple[int, ...]] = {}
    for l in range(1, len(layer_dims)):
        shapes[f"W{l}"] = (layer_dims[l], layer_dims[l - 1])
        shapes[f"b{l}"] = (layer_dims[l], 1)
    return shapes


def check_activations(activations: Sequence[ActivationLike], L: int) -> list[Activation]:
    """One activation per layer: the last a sigmoid (one unit: the binary cross-entropy needs a
    probability) or a softmax (``C`` units [C2 3]); softmax is an output activation only."""
    if isinstance(activations, (str, Activation)) or len(activations) != L:
        raise ValueError(f"activations must name one activation per layer (L = {L}); got {activations!r}")
    resolved = [get_activation(g, f"activations[{i}]") for i, g in enumerate(activations)]
    if not isinstance(resolved[-1], (Sigmoid, Softmax)):  # an activation, but the wrong one: a value error
        raise ValueError(  # noqa: TRY004
            "the output layer's activation must be 'sigmoid' (one unit) or 'softmax' (C units): the cross-entropy "
            f"cost [C1 2.3, C2 3] needs probabilities; got {resolved[-1]!r}"
        )
    hidden = [i for i, g in enumerate(resolved[:-1]) if isinstance(g, Softmax)]
    if hidden:
        raise ValueError(
            f"activations[{hidden[0]}] is 'softmax', which is an output activation only: use 'relu', 'tanh', "
            "'leaky_relu' or 'sigmoid' for hidden layers"
        )
    return resolved


def _layer_count(parameters: Mapping[str, Any]) -> int:
    L = 0
    while f"W{L + 1}" in parameters:
        L += 1
    if L == 0:
        raise ValueError(f"parameters must hold W1, b1, ..., WL, bL; got keys {list(parameters)}")
    return L


def check_forward_arguments(
    parameters: Mapping[str, Any], X: Any, activations: Sequence[ActivationLike]
) -> tuple[dict[str, Any], Any, list[Activation], ModuleType]:
    """``forward``'s arguments, checked, and their namespace: ``(parameters, X, activations, xp)``.
    ``layer_dims`` are read from the 2-D ``W1, ..., WL``; then every parameter is checked against
    them. Metadata only, except ``check_X``'s finiteness check of X."""
    check_mapping(parameters, "parameters")
    L = _layer_count(parameters)
    weights = {f"W{l}": as_matrix(parameters[f"W{l}"], f"parameters['W{l}']", "(n_l, n_{l-1})") for l in range(1, L + 1)}
    layer_dims = [weights["W1"].shape[1]] + [W.shape[0] for W in weights.values()]
    parameters, xp, _ = check_parameters({**parameters, **weights}, network_shapes(layer_dims))
    X, _, _ = check_X(X, layer_dims[0], parameters["W1"], "the parameters")
    return parameters, X, check_activations(activations, L), xp


def check_backward_arguments(
    AL: Any, Y: Any, caches: Sequence[LayerCache], activations: Sequence[ActivationLike]
) -> tuple[Any, Any, Sequence[LayerCache], list[Activation], ModuleType]:
    """``backward``'s arguments, checked, and their namespace: ``(AL, Y, caches, activations, xp)``."""
    AL, Y, xp = check_predictions(AL, Y)
    caches = check_caches(caches, AL)
    return AL, Y, caches, check_activations(activations, len(caches)), xp


def check_caches(caches: Sequence[LayerCache], AL: Any) -> list[LayerCache]:
    """``caches`` as ``forward`` returns them for ``AL``'s m examples: one ``LayerCache`` per layer
    l = 1..L with ``A_prev`` of shape ``(n_{l-1}, m)``, ``W`` ``(n_l, n_{l-1})``, ``Z`` and ``A``
    ``(n_l, m)``, the sizes following from layer to layer and ``A^[L]`` of AL's shape. Shapes
    only (no sync, no namespace lookup: a step in a user's loop pays a few microseconds a layer);
    ``forward`` made them in one library, device and dtype."""
    if isinstance(caches, (str, LayerCache)) or not isinstance(caches, Sequence):
        raise TypeError(f"caches must be the list of LayerCaches that forward returns; got {type(caches).__name__}")
    if len(caches) == 0:
        raise ValueError("caches must hold one LayerCache per layer, as forward returns them; got none")
    m = AL.shape[1]
    checked = []
    n_prev = None
    for i, cache in enumerate(caches):
        if not isinstance(cache, LayerCache):
            raise TypeError(f"caches[{i}] must be a LayerCache (A_prev, W, Z, A), as forward returns; got {type(cache).__name__}")
        W = as_matrix(cache.W, f"caches[{i}]['W']", "(n_l, n_{l-1})")
        n = AL.shape[0] if i == len(caches) - 1 else W.shape[0]  # A^[L] is AL
        n_prev = W.shape[1] if n_prev is None else n_prev
        shapes = {"A_prev": (n_prev, m), "W": (n, n_prev), "Z": (n, m), "A": (n, m)}
        if cache.D is not None:  # dropout's mask [C2 2.2]
            shapes["D"] = (n, m)
        checked.append(cache._replace(**check_shapes({key: getattr(cache, key) for key in shapes}, shapes, f"caches[{i}]")))
        n_prev = n
    return checked


def check_update_arguments(
    parameters: Mapping[str, Any], grads: Mapping[str, Any], learning_rate: float
) -> tuple[Mapping[str, Any], Mapping[str, Any], float]:
    """``update``'s arguments, checked: ``(parameters, grads, learning_rate)``; each gradient
    ``dK`` has the shape, library, device and dtype of its parameter ``K``."""
    check_mapping(parameters, "parameters")
    if not parameters:
        raise TypeError("parameters must be a non-empty mapping of name to array; got an empty one")
    shapes = {key: tuple(as_array(value, f"parameters[{key!r}]").shape) for key, value in parameters.items()}
    parameters, _, _ = check_parameters(parameters, shapes)
    like = next(iter(parameters.values()))
    grads, _, _ = check_parameters(grads, {f"d{key}": shape for key, shape in shapes.items()}, "grads", like)
    return parameters, grads, check_learning_rate(learning_rate)


def forward(
    parameters: Mapping[str, Any], X: Any, activations: Sequence[ActivationLike]
) -> tuple[Any, list[LayerCache]]:
    """Forward propagation [C1 3.1]: ``(AL, caches)`` for ``X`` of shape ``(n_x, m)``.

    ``activations`` names ``g^[1], ..., g^[L]``; the last must be ``"sigmoid"``.
    ``caches[l-1]`` holds layer l's ``A_prev, W, Z, A``.
    """
    return _forward(*check_forward_arguments(parameters, X, activations))


def backward(
    AL: Any, Y: Any, caches: Sequence[LayerCache], activations: Sequence[ActivationLike]
) -> dict[str, Any]:
    """Backpropagation [C1 3.5]: the gradients ``dW1, db1, ..., dWL, dbL`` of the cost."""
    return _backward(*check_backward_arguments(AL, Y, caches, activations))


def update(parameters: Mapping[str, Any], grads: Mapping[str, Any], learning_rate: float) -> dict[str, Any]:
    """One gradient-descent step [C1 3.5]: new parameters ``W - alpha dW``, ``b - alpha db``."""
    return _update(*check_update_arguments(parameters, grads, learning_rate))
