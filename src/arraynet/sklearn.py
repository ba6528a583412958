"""scikit-learn estimators: ``NeuralNetworkClassifier`` and ``LogisticRegressionClassifier``.

They wrap ``arraynet.NeuralNetwork`` and ``arraynet.LogisticRegression`` in scikit-learn's
conventions: samples as rows, ``X`` of shape ``(n_samples, n_features)`` (the transpose of the
seed's ``(n_x, m)``), 1-D labels of any two classes (``classes_[0]`` is learnt as 0,
``classes_[1]`` as 1), hyperparameters as constructor arguments. They work in ``Pipeline`` and
``GridSearchCV``; under ``sklearn.config_context(array_api_dispatch=True)`` they train and predict
in the namespace and on the device of ``X`` (PyTorch, CuPy, ...), with no copy to NumPy.

Needs scikit-learn (``pip install 'arraynet[sklearn]'``); ``import arraynet`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import array_api_compat
import array_api_compat.numpy
import numpy as np

try:
    from sklearn import get_config
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, type_of_target
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "arraynet.sklearn needs scikit-learn >= 1.6: pip install 'arraynet[sklearn]'"
    ) from exc

from .backends import asarray, backend_name, is_array, is_dask_array, namespace_of
from .kernel.activations import ActivationLike
from .models import LogisticRegression, Model, NeuralNetwork
from .models.history import History

__all__ = ["LogisticRegressionClassifier", "NeuralNetworkClassifier"]


def _namespace(X: Any) -> ModuleType:
    """The namespace scikit-learn keeps ``X`` in: its own under array API dispatch, else NumPy.
    A Dask array is a TypeError under dispatch: the estimators hold their data in memory."""
    if get_config()["array_api_dispatch"] and is_array(X):
        if is_dask_array(X):
            raise TypeError(
                "X is a Dask array: scikit-learn's estimators train on data in memory; compute it "
                "(X.compute()), or train an arraynet model on the Dask array itself, examples as columns: "
                "arraynet.NeuralNetwork(layer_dims).fit(X.T, y[None, :]) (docs/guides/dask.md)"
            )
        return namespace_of(X)
    return array_api_compat.numpy


def _seed(random_state: Any) -> int | None:
    """arraynet's ``seed`` for scikit-learn's ``random_state``: an integer or None as it is (so
    ``random_state=3`` draws the network of ``seed=3``), a ``RandomState`` drawn from."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class _ArraynetClassifier(ClassifierMixin, BaseEstimator):
    """What both estimators share; a subclass makes its arraynet model in ``_make_model``."""

    def __init__(
        self,
        learning_rate: float = 0.1,
        num_iterations: int = 1000,
        init: str = "zeros",
        random_state: Any = None,
        record_every: int = 100,
        progress: bool | None = False,
    ) -> None:
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.init = init
        self.random_state = random_state
        self.record_every = record_every
        self.progress = progress

    def _make_model(self, n_features: int) -> Model:
        raise NotImplementedError

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.array_api_support = True
        return tags

    def _validate(self, X: Any, y: Any = "no_validation", reset: bool = False) -> Any:
        """``validate_data``: X floating (float32 kept, else float64) in its namespace; with y,
        ``(X, y)``, y 1-D."""
        xp = _namespace(X)
        return validate_data(self, X, y, reset=reset, dtype=[xp.float64, xp.float32])

    def fit(self, X: Any, y: Any) -> _ArraynetClassifier:
        """Train on ``X`` of shape ``(n_samples, n_features)`` and labels ``y`` of shape
        ``(n_samples,)`` holding two classes. Sets ``classes_``, ``model_`` (the arraynet model),
        ``history_`` and ``n_iter_``."""
        if get_config()["array_api_dispatch"] and is_array(X) and is_array(y):
            # scikit-learn's rule under array API dispatch: everything follows X
            y = asarray(y, backend_name(_namespace(X)), device=array_api_compat.device(X))
        X, y = self._validate(X, y, reset=True)
        check_classification_targets(y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {target}."
            )
        xp = _namespace(y)
        classes = xp.sort(xp.unique_values(y))
        if classes.shape[0] != 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of 2 classes in y; got 1 class: {classes[0]!r}"
            )
        Y = xp.reshape(xp.astype(y == classes[1], X.dtype), (1, -1))
        model = self._make_model(X.shape[1])
        self.history_: History = model.fit(
            X.T,
            Y,
            learning_rate=self.learning_rate,
            num_iterations=self.num_iterations,
            record_every=self.record_every,
            progress=self.progress,
        )
        self.model_ = model
        self.classes_ = classes
        self.n_iter_ = self.history_.iterations_run
        return self

    def _model_input(self, X: Any, method: str) -> Any:
        """X validated and laid out for ``model_``: ``(n_features, n_samples)`` in the fit's dtype,
        in X's namespace and device, which must be the fit's."""
        check_is_fitted(self)
        X = self._validate(X)
        W = next(iter(self.model_.get_parameters().values()))
        xp, device = namespace_of(X), array_api_compat.device(X)
        fitted_xp, fitted_device = namespace_of(W), array_api_compat.device(W)
        if xp is not fitted_xp or device != fitted_device:
            raise ValueError(
                f"{type(self).__name__}.{method}(): X is a {backend_name(xp)} array on device "
                f"{device}, but inputs must use the same namespace and device as the data the "
                f"estimator was fitted on ({backend_name(fitted_xp)}, device {fitted_device}); "
                "move X with arraynet.asarray(X, backend=..., device=...)"
            )
        return xp.astype(X, W.dtype).T

    def decision_function(self, X: Any) -> Any:
        """The logit ``Z^[L]`` of each sample, shape ``(n_samples,)``, in X's namespace:
        ``log(p / (1 - p))`` for ``p`` the probability of ``classes_[1]`` (``A^[L] = sigma(Z^[L])``,
        seed 3.1), so positive scores predict ``classes_[1]``. Unlike ``p``, it does not saturate
        at 0 or 1, so scorers such as ``roc_auc`` rank confident samples too."""
        return self._logits(X, "decision_function")

    def _logits(self, X: Any, method: str) -> Any:
        """``Z^[L]`` of each sample, for ``method``'s errors."""
        X = self._model_input(X, method)  # first: it raises NotFittedError before model_ is read
        return self.model_.decision_function(X)[0, :]

    def predict_proba(self, X: Any) -> Any:
        """The probabilities of ``classes_``, shape ``(n_samples, 2)``, in X's namespace."""
        X = self._model_input(X, "predict_proba")  # first: it raises NotFittedError
        p = self.model_.predict_proba(X)[0, :]
        xp = namespace_of(p)
        return xp.stack([1.0 - p, p], axis=1)

    def predict(self, X: Any) -> Any:
        """The predicted class of each sample: ``classes_[1]`` where its probability is > 0.5, read as
        a positive ``decision_function`` (see ``Model.predict``)."""
        scores = self._logits(X, "predict")
        xp = namespace_of(scores)
        return xp.take(self.classes_, xp.astype(scores > 0, xp.int64))


class NeuralNetworkClassifier(_ArraynetClassifier):
    """An L-layer network for binary classification [seed 3.1-3.7, 4.1-4.4]: hidden layers of
    ``hidden_layer_sizes`` units with ``activation``, a sigmoid output unit, trained by batch
    gradient descent on the cross-entropy cost for ``num_iterations`` iterations.

    ``random_state`` is arraynet's ``seed``: an integer gives the network of that seed on every
    backend. ``progress`` is ``fit``'s progress bar (off by default, as scikit-learn's ``verbose``).
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (16,),
        activation: ActivationLike = "relu",
        learning_rate: float = 0.1,
        num_iterations: int = 1000,
        init: str = "he",
        random_state: Any = None,
        record_every: int = 100,
        progress: bool | None = False,
    ) -> None:
        super().__init__(learning_rate, num_iterations, init, random_state, record_every, progress)
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation

    def _make_model(self, n_features: int) -> Model:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool) else sizes
        if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be a positive integer or a sequence of them; got {self.hidden_layer_sizes!r}"
            )
        return NeuralNetwork(
            [n_features, *(int(n) for n in sizes), 1],
            hidden_activation=self.activation,
            init=self.init,
            seed=_seed(self.random_state),
        )


class LogisticRegressionClassifier(_ArraynetClassifier):
    """Logistic regression [seed 2.2-2.7]: ``y_hat = sigma(w^T x + b)``, trained by batch gradient
    descent on the cross-entropy cost, ``w`` starting at zero (``init="zeros"``) or drawn with
    another init from ``random_state``. Its constructor arguments are the shared ones:
    ``learning_rate=0.1, num_iterations=1000, init="zeros", random_state=None, record_every=100,
    progress=False``."""

    def _make_model(self, n_features: int) -> Model:
        return LogisticRegression(init=self.init, seed=_seed(self.random_state))
