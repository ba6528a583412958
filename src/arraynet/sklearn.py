"""scikit-learn estimators: ``NeuralNetworkClassifier`` and ``LogisticRegressionClassifier``.

They wrap ``arraynet.NeuralNetwork`` and ``arraynet.LogisticRegression`` in scikit-learn's
conventions: samples as rows, ``X`` of shape ``(n_samples, n_features)`` (the transpose of the
models' ``(n_x, m)``), 1-D labels of any classes (strings, integers, ...: ``classes_``, sorted, are learnt
as ``0..C-1``; two classes train a sigmoid output unit, ``classes_[1]`` as 1, more a softmax output
of ``C`` units [C2 3]), hyperparameters as constructor arguments. They work in ``Pipeline`` and
``GridSearchCV``; under ``sklearn.config_context(array_api_dispatch=True)`` they train and predict
in the namespace and on the device of ``X`` (PyTorch, CuPy, ...), with no copy to NumPy.

Training takes ``MLPClassifier``'s names where they mean the same [C2 1.1-1.4]: ``solver`` ("sgd":
gradient descent, with ``momentum``; "rmsprop"; "adam"), ``batch_size``, ``learning_rate_init``,
``max_iter`` (epochs), ``beta_1``, ``beta_2``, ``epsilon``, ``shuffle``, ``alpha`` (L2
regularization [C2 2.1], as MLPClassifier defines it), and ``partial_fit`` (one epoch, the
optimizer's state kept). The defaults are the estimators' own: batch gradient descent
(``solver="sgd"``, ``momentum=0``, ``batch_size=None``) with a learning rate of 0.1 for 1000
iterations, and no regularization (``alpha=0``; MLPClassifier's default is 1e-4).
``early_stopping``, ``validation_fraction``, ``n_iter_no_change`` and ``tol`` stop training on a
held-out validation score as MLPClassifier's do (see ``NeuralNetworkClassifier``).

Needs scikit-learn (``pip install 'arraynet[sklearn]'``); ``import arraynet`` does not.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
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

from .backends import asarray, backend_name, is_array, is_dask_array, namespace_of, to_numpy
from .kernel.activations import ActivationLike
from .kernel.optimizers import Adam, GradientDescent, Momentum, Optimizer, RMSprop
from .models import EarlyStopping, LogisticRegression, Model, NeuralNetwork
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


SOLVERS = ("sgd", "rmsprop", "adam")


def _real(value: Any, name: str, expected: str, ok: Callable[[float], bool]) -> float:
    """``value`` as a float, which must be a real number (not a bool) that ``ok`` accepts."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not ok(float(value)):
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return float(value)


def _integer(value: Any, name: str, minimum: int, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return int(value)


def _fraction(value: Any, name: str, example: str) -> float:
    return _real(value, name, f"a number in [0, 1), e.g. {example}", lambda v: 0.0 <= v < 1.0)


#: A feature whose standard deviation or |mean| is above this is "far from unit scale" (see ``fit``).
UNSCALED = 10.0


def _unscaled_warning(X: Any, estimator: str) -> None:
    """A UserWarning when some feature of ``X`` (rows: samples) has a standard deviation or an
    absolute mean above ``UNSCALED``: gradient descent at the estimators' learning rates then
    saturates the units and learns next to nothing (the majority class), without an error."""
    xp = namespace_of(X)
    if X.shape[0] == 0:
        return
    mean = xp.mean(X, axis=0)
    std = xp.std(X, axis=0)
    scale = xp.maximum(xp.abs(mean), std)
    with np.errstate(invalid="ignore"):
        worst = float(xp.max(scale))
    if not worst > UNSCALED:  # NaN-safe: check_estimator's NaN checks raise elsewhere
        return
    feature = int(xp.argmax(scale))
    warnings.warn(
        f"{estimator}: the features are far from unit scale (feature {feature}: mean {float(mean[feature]):.3g}, "
        f"standard deviation {float(std[feature]):.3g}; some feature's |mean| or standard deviation is above "
        f"{UNSCALED:g}), which gradient descent learns poorly or not at all; standardize them: standardize=True, "
        "or make_pipeline(StandardScaler(), ...)",
        UserWarning,
        stacklevel=3,
    )


def _short(value: float) -> str:
    """``value`` in 3 significant digits, exponents written 1e39, not 1e+39."""
    return f"{value:.3g}".replace("e+", "e")


def _in_dtype(X: Any, dtype: Any, estimator: str, method: str) -> Any:
    """``X`` cast to ``dtype`` (the parameters'), a ValueError when a finite value of X overflows it
    (a float64 1e39 in float32 would become Inf)."""
    xp = namespace_of(X)
    if X.dtype == dtype or X.shape[0] * X.shape[1] == 0:
        return xp.astype(X, dtype)
    top = float(xp.finfo(dtype).max)
    magnitude = xp.abs(X)
    too_large = xp.isfinite(magnitude) & (magnitude > top)
    if bool(xp.any(too_large)):
        value = float(xp.max(xp.where(too_large, magnitude, xp.zeros_like(magnitude))))
        name = "float32" if dtype == xp.float32 else str(dtype)
        raise ValueError(
            f"{estimator}.{method}(): X holds {_short(value)}, which overflows {name}, the dtype the estimator was "
            f"trained in ({name}'s range is +-{_short(top)}); scale the features (e.g. StandardScaler in a "
            f"Pipeline) or train in float64 (fit on float64 X)"
        )
    return xp.astype(X, dtype)


class _ArraynetClassifier(ClassifierMixin, BaseEstimator):
    """What both estimators share; a subclass makes its arraynet model in ``_make_model``.

    ``learning_rate`` and ``num_iterations`` are the names ``learning_rate_init`` and ``max_iter``
    had before 0.3.0: deprecated (a FutureWarning), removed in 0.4.0."""

    def __init__(
        self,
        learning_rate: float | None = None,
        num_iterations: int | None = None,
        init: str = "zeros",
        random_state: Any = None,
        record_every: int | None = None,
        progress: bool | None = False,
        *,
        solver: str = "sgd",
        batch_size: int | str | None = None,
        learning_rate_init: float = 0.1,
        max_iter: int = 1000,
        momentum: float = 0.0,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        shuffle: bool = True,
        alpha: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        standardize: bool = False,
    ) -> None:
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.init = init
        self.random_state = random_state
        self.record_every = record_every
        self.progress = progress
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.standardize = standardize

    def _make_model(self, n_features: int, n_outputs: int) -> Model:
        """The arraynet model for ``n_features`` inputs and ``n_outputs`` output units (1: a
        sigmoid for two classes; ``C``: a softmax)."""
        raise NotImplementedError

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.array_api_support = True
        return tags

    def _validate(self, X: Any, y: Any = "no_validation", reset: bool = False) -> Any:
        """``validate_data``: X floating (float32 kept, else float64) in its namespace; with y,
        ``(X, y)``, y 1-D."""
        xp = _namespace(X)
        return validate_data(self, X, y, reset=reset, dtype=[xp.float64, xp.float32])

    # -- training ----------------------------------------------------------------------------
    def _renamed(self, old: str, new: str, default: Any) -> tuple[str, Any]:
        """``(name, value)`` of the setting that ``new`` holds, or ``old`` (its name before 0.3.0,
        deprecated) when that one is set."""
        value = getattr(self, old)
        if value is None:
            return new, getattr(self, new)
        if getattr(self, new) != default:
            raise ValueError(f"{old} is the deprecated name of {new}; set {new} only (got {old}={value!r} and {new}={getattr(self, new)!r})")
        warnings.warn(
            f"{type(self).__name__}: {old} is renamed {new} (scikit-learn's MLPClassifier's name) in 0.3.0 and "
            f"will be removed in 0.4.0; use {new}={value!r}",
            FutureWarning,
            stacklevel=4,
        )
        return old, value

    def _training(self, n_samples: int) -> dict[str, Any]:
        """``Model.fit``'s arguments from the hyperparameters, each checked (a bad value is a
        ValueError naming it, what it must be, and what it is)."""
        name, learning_rate = self._renamed("learning_rate", "learning_rate_init", 0.1)
        learning_rate = _real(learning_rate, name, "a finite number > 0, e.g. 0.01", lambda v: 0.0 < v < math.inf)
        name, max_iter = self._renamed("num_iterations", "max_iter", 1000)
        epochs = _integer(max_iter, name, 0, "an integer >= 0 (the epochs: passes over the data), e.g. 200")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}; got {self.solver!r}")
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = min(200, n_samples)
        elif batch_size is not None:
            expected = "None (all the samples in one batch), 'auto' (min(200, n_samples)) or an integer >= 1, e.g. 32"
            batch_size = _integer(batch_size, "batch_size", 1, expected)
        momentum = _fraction(self.momentum, "momentum", "0.9 (0: plain gradient descent)")
        beta_1 = _fraction(self.beta_1, "beta_1", "0.9")
        beta_2 = _fraction(self.beta_2, "beta_2", "0.999")
        epsilon = _real(self.epsilon, "epsilon", "a finite number > 0, e.g. 1e-8", lambda v: 0.0 < v < math.inf)
        if self.shuffle is not True and self.shuffle is not False:
            raise ValueError(f"shuffle must be True or False; got {self.shuffle!r}")
        alpha = _real(self.alpha, "alpha", "a finite number >= 0 (the L2 penalty; 0: none), e.g. 1e-4", lambda v: 0.0 <= v < math.inf)
        if self.standardize is not True and self.standardize is not False:
            raise ValueError(f"standardize must be True or False; got {self.standardize!r}")
        if self.early_stopping is not True and self.early_stopping is not False:
            raise ValueError(f"early_stopping must be True or False; got {self.early_stopping!r}")
        _real(self.validation_fraction, "validation_fraction", "a number in (0, 1), e.g. 0.1", lambda v: 0.0 < v < 1.0)
        _integer(self.n_iter_no_change, "n_iter_no_change", 1, "an integer >= 1 (epochs), e.g. 10")
        _real(self.tol, "tol", "a finite number >= 0, e.g. 1e-4", lambda v: 0.0 <= v < math.inf)
        if self.record_every is not None:
            _integer(self.record_every, "record_every", 1, "None (every 100 iterations, or every epoch) or an integer >= 1")
        optimizer: Optimizer
        if self.solver == "sgd":
            optimizer = GradientDescent() if momentum == 0.0 else Momentum(beta=momentum)
        elif self.solver == "rmsprop":
            optimizer = RMSprop(beta2=beta_2, epsilon=epsilon)
        else:
            optimizer = Adam(beta1=beta_1, beta2=beta_2, epsilon=epsilon)
        return {
            "learning_rate": learning_rate, "epochs": epochs, "optimizer": optimizer, "batch_size": batch_size,
            "shuffle": self.shuffle, "record_every": self.record_every, "progress": self.progress, "l2": alpha,
        }

    def _labels(self, X: Any, y: Any, reset: bool) -> tuple[Any, Any]:
        """``(X, y)`` validated (y moved to X's namespace and device under array API dispatch,
        scikit-learn's rule), y's labels those of a binary or multi-class target."""
        if get_config()["array_api_dispatch"] and is_array(X) and is_array(y):
            # scikit-learn's rule under array API dispatch: everything follows X
            y = asarray(y, backend_name(_namespace(X)), device=array_api_compat.device(X))
        X, y = self._validate(X, y, reset=reset)
        check_classification_targets(y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multi-class targets (one label per sample); "
                f"the type of the target is {target}"
            )
        return X, y

    @staticmethod
    def _targets(y: Any, classes: Any, dtype: Any) -> Any:
        """The model's labels of ``y``, shape ``(1, n_samples)`` in ``dtype``: 1 for ``classes[1]``
        and 0 otherwise for two classes (the sigmoid's), else the index of each label in ``classes``."""
        xp = _namespace(y)
        if classes.shape[0] == 2:
            return xp.reshape(xp.astype(y == classes[1], dtype), (1, -1))
        if isinstance(y, np.ndarray):  # strings and objects too
            indices = np.searchsorted(classes, y)
        else:
            indices = xp.searchsorted(classes, y)
        return xp.reshape(xp.astype(indices, dtype), (1, -1))

    def _train(self, model: Model, X: Any, y: Any, classes: Any, validation: tuple[Any, Any] | None = None,
               **training: Any) -> History:
        """``model.fit`` on the samples ``X`` and labels ``y`` (see ``_targets``), validated on
        ``validation`` (samples, labels) when given."""
        if validation is not None:
            training["validation_data"] = (validation[0].T, self._targets(validation[1], classes, X.dtype))
        history: History = model.fit(X.T, self._targets(y, classes, X.dtype), **training)
        return history

    def _held_out(self, X: Any, y: Any) -> tuple[Any, Any, Any, Any]:
        """``(X_train, y_train, X_val, y_val)``: ``validation_fraction`` of the samples held out as
        MLPClassifier holds them out, a stratified shuffled split (each class in its proportion)
        drawn from ``random_state``; a plain shuffled split where stratifying is impossible (a class
        with one sample, or fewer held-out samples than classes)."""
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        labels = np.asarray(to_numpy(y))
        state = _seed(self.random_state)
        try:
            split = StratifiedShuffleSplit(1, test_size=self.validation_fraction, random_state=state)
            train, val = next(split.split(np.zeros((labels.shape[0], 1)), labels))
        except ValueError:
            split = ShuffleSplit(1, test_size=self.validation_fraction, random_state=state)  # type: ignore[assignment]
            train, val = next(split.split(np.zeros((labels.shape[0], 1))))
        if train.shape[0] == 0 or val.shape[0] == 0:
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r} of {labels.shape[0]} samples leaves none to "
                "train on or none to validate on: give more samples or another validation_fraction"
            )
        xp = _namespace(X)
        device = array_api_compat.device(X)
        train_at = xp.asarray(np.sort(train), device=device)
        val_at = xp.asarray(np.sort(val), device=device)
        return (xp.take(X, train_at, axis=0), xp.take(y, train_at, axis=0),
                xp.take(X, val_at, axis=0), xp.take(y, val_at, axis=0))

    def fit(self, X: Any, y: Any) -> _ArraynetClassifier:
        """Train on ``X`` of shape ``(n_samples, n_features)`` and labels ``y`` of shape
        ``(n_samples,)`` holding two or more classes, from new parameters: ``max_iter`` iterations of
        batch gradient descent, or with a ``batch_size`` or another ``solver``, ``max_iter`` epochs.
        Sets ``classes_``, ``model_`` (the arraynet model), ``history_`` and ``n_iter_`` (the
        iterations or epochs run); with ``early_stopping``, ``validation_scores_`` and
        ``best_validation_score_`` too.

        Warns (a ``UserWarning``, once per fit) when the features are far from unit scale: some
        feature's standard deviation or absolute mean above 10, with ``standardize=False``. Gradient
        descent then learns poorly or not at all (raw breast cancer data: the majority class);
        ``standardize=True`` or ``make_pipeline(StandardScaler(), ...)`` fixes it."""
        X, y = self._labels(X, y, reset=True)
        training = self._training(X.shape[0])
        xp = _namespace(y)
        classes = xp.sort(xp.unique_values(y))
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y; got 1 class: {classes[0]!r}"
            )
        if not self.standardize:
            _unscaled_warning(X, type(self).__name__)
        validation = None
        if self.early_stopping:
            if self.batch_size is None:
                warnings.warn(
                    f"{type(self).__name__}(early_stopping=True, batch_size=None) checks the validation score after each "
                    f"update of batch gradient descent, so it stops after n_iter_no_change={self.n_iter_no_change} updates "
                    "without improvement, long before training has converged; give batch_size ('auto': mini-batches "
                    "of min(200, n_samples), as MLPClassifier) or a larger n_iter_no_change",
                    UserWarning,
                    stacklevel=2,
                )
            X, y, X_val, y_val = self._held_out(X, y)
            validation = (X_val, y_val)
            training["early_stopping"] = EarlyStopping(
                monitor="val_accuracy", patience=int(self.n_iter_no_change), min_delta=float(self.tol), restore_best=True
            )
            if training["record_every"] is None:
                training["record_every"] = 1  # checked every epoch (iteration), as MLPClassifier checks
        model = self._make_model(X.shape[1], 1 if classes.shape[0] == 2 else int(classes.shape[0]))
        self.history_: History = self._train(model, X, y, classes, validation, **training)
        self.model_ = model
        self.classes_ = classes
        self.n_iter_ = self.history_.iterations_run
        if self.early_stopping:
            self.validation_scores_ = list(self.history_.val_accuracies)
            self.best_validation_score_ = max(self.validation_scores_)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> _ArraynetClassifier:
        """One epoch over ``X`` and ``y`` (``max_iter`` and ``early_stopping`` are not used, as
        MLPClassifier's partial_fit does not use them), from the parameters and the optimizer's
        state where the last ``fit`` or ``partial_fit`` left them: two calls on the same data train
        as ``fit`` with ``max_iter=2`` does (the same shuffles, Adam's ``t`` counting on). The first
        call (before any ``fit``) must give ``classes``, all the labels of the whole data
        (``numpy.unique(y_all)``; two or more): a batch of ``y`` may hold only some. ``history_`` is
        this call's; ``n_iter_`` counts the epochs of every call."""
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: all the labels of the whole data, "
                "e.g. classes=numpy.unique(y_all); got classes=None"
            )
        X, y = self._labels(X, y, reset=first)
        training = {**self._training(X.shape[0]), "epochs": 1}
        xp = _namespace(y)
        if classes is not None:
            given = xp.sort(xp.unique_values(asarray(classes, backend_name(xp), device=array_api_compat.device(y))))
            if given.ndim != 1 or given.shape[0] < 2:
                raise ValueError(f"classes must hold all the classes of y, at least 2, e.g. numpy.unique(y_all); got {classes!r}")
            if not first and (given.shape[0] != self.classes_.shape[0] or not bool(xp.all(given == self.classes_))):
                raise ValueError(
                    f"classes must be the classes_ of the first call to partial_fit ({self.classes_!r}); got {classes!r}"
                )
        known = given if first else self.classes_
        labels, names = np.asarray(to_numpy(y)), np.asarray(to_numpy(known))
        if not bool(np.all(np.isin(labels, names))):
            others = np.unique(labels[~np.isin(labels, names)])
            raise ValueError(f"y must hold only the labels of classes, {names!r}; got also {others!r}")
        if first:
            model = self._make_model(X.shape[1], 1 if known.shape[0] == 2 else int(known.shape[0]))
        else:
            model = self.model_
            X = _in_dtype(X, next(iter(model.get_parameters().values())).dtype, type(self).__name__, "partial_fit")
        self.history_ = self._train(model, X, y, known, **training)
        self.model_, self.classes_ = model, known
        self.n_iter_ = (0 if first else self.n_iter_) + self.history_.iterations_run
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
        return _in_dtype(X, W.dtype, type(self).__name__, method).T

    def decision_function(self, X: Any) -> Any:
        """For two classes, the logit ``Z^[L]`` of each sample, shape ``(n_samples,)``, in X's
        namespace: ``log(p / (1 - p))`` for ``p`` the probability of ``classes_[1]``
        (``A^[L] = sigma(Z^[L])``, [C1 3.1]), so positive scores predict ``classes_[1]``. Unlike
        ``p``, it does not saturate at 0 or 1, so scorers such as ``roc_auc`` rank confident samples
        too. For ``C > 2`` classes, the softmax's ``C`` logits of each sample, shape
        ``(n_samples, C)``, columns ``classes_`` [C2 3]: the largest predicts."""
        return self._logits(X, "decision_function")

    def _logits(self, X: Any, method: str) -> Any:
        """``Z^[L]`` of each sample, for ``method``'s errors: ``(n_samples,)`` or ``(n_samples, C)``."""
        X = self._model_input(X, method)  # first: it raises NotFittedError before model_ is read
        ZL = self.model_.decision_function(X)
        return ZL[0, :] if ZL.shape[0] == 1 else ZL.T

    def predict_proba(self, X: Any) -> Any:
        """The probabilities of ``classes_``, shape ``(n_samples, C)`` (``(n_samples, 2)`` for two
        classes), in X's namespace; each row sums to 1."""
        X = self._model_input(X, "predict_proba")  # first: it raises NotFittedError
        A = self.model_.predict_proba(X)
        if A.shape[0] > 1:
            return A.T
        p = A[0, :]
        xp = namespace_of(p)
        return xp.stack([1.0 - p, p], axis=1)

    def predict(self, X: Any) -> Any:
        """The predicted class of each sample, from ``classes_``: for two classes ``classes_[1]``
        where its probability is > 0.5, read as a positive ``decision_function`` (see
        ``Model.predict``); for more, the class of the largest logit (and probability)."""
        scores = self._logits(X, "predict")
        xp = namespace_of(scores)
        if scores.ndim == 1:
            return xp.take(self.classes_, xp.astype(scores > 0, xp.int64))
        return xp.take(self.classes_, xp.argmax(scores, axis=1))


class NeuralNetworkClassifier(_ArraynetClassifier):
    """An L-layer network classifier [C1 3.1-3.7, 4.1-4.4]: hidden layers of
    ``hidden_layer_sizes`` units with ``activation``, a sigmoid output unit for two classes or a
    softmax output of ``C`` units for ``C > 2`` classes [C2 3], trained on the (categorical)
    cross-entropy cost: by default by batch gradient descent for ``max_iter`` iterations, else on
    mini-batches and with the optimizer the parameters below choose [C2 1.1-1.4].

    - ``solver``: "sgd", gradient descent (``momentum`` > 0: ``arraynet.Momentum(beta=momentum)``,
      ``v = beta v + (1 - beta) dW``, not MLPClassifier's ``v = momentum v - learning_rate dW``);
      "rmsprop" (``arraynet.RMSprop(beta2=beta_2, epsilon=epsilon)``); "adam"
      (``arraynet.Adam(beta1=beta_1, beta2=beta_2, epsilon=epsilon)``, the course's Adam: epsilon
      added to the root of the corrected average). Each uses its own of these parameters only.
    - ``batch_size``: None (default) trains on all the samples at once; an integer on mini-batches
      of that many samples, one update each; "auto" on ``min(200, n_samples)``.
    - ``learning_rate_init``: the learning rate (default 0.1). ``max_iter``: the epochs (passes over
      the data; default 1000), each one update in full-batch training.
    - ``shuffle``: a new order of the samples each epoch, drawn from ``random_state`` (True), or
      their order (False).
    - ``alpha``: L2 regularization [C2 2.1], ``fit``'s ``l2``: each update's cost gains
      ``alpha / (2 n) * sum_l ||W^[l]||_F^2`` and each weight's gradient ``(alpha / n) W^[l]``, ``n``
      the samples of the update's batch, the intercepts not regularized. That is MLPClassifier's
      definition (its loss adds ``0.5 * alpha * ||W||^2 / n_samples`` of the batch, its gradients
      ``alpha * W / n_samples``), so the same ``alpha`` means the same penalty; the default differs
      (0 here, none; 1e-4 there).
    - ``random_state`` is arraynet's ``seed``: an integer gives the network of that seed, and the
      same mini-batches, on every backend. ``record_every``: the cost is recorded every so many
      iterations or epochs (None: every 100 iterations, every epoch with mini-batches).
      ``progress`` is ``fit``'s progress bar (off by default, as scikit-learn's ``verbose``).
    - ``early_stopping`` (default False), ``validation_fraction`` (0.1), ``n_iter_no_change`` (10),
      ``tol`` (1e-4): MLPClassifier's. With ``early_stopping=True``, ``fit`` holds out
      ``validation_fraction`` of the samples as MLPClassifier does, a stratified shuffled split
      drawn from ``random_state`` (not ``Model.fit``'s ``validation_split``, which takes the last
      samples), trains on the rest and stops when the validation accuracy has not improved by more
      than ``tol`` for ``n_iter_no_change`` epochs in a row (``arraynet.EarlyStopping(
      monitor="val_accuracy", patience=n_iter_no_change, min_delta=tol)``, checked every epoch, or
      every ``record_every``); the model then takes back the parameters of its best epoch, as
      MLPClassifier's does (it keeps its best validation score's coefficients). MLPClassifier counts
      one epoch more (it stops when the count exceeds ``n_iter_no_change``). Sets
      ``validation_scores_`` and ``best_validation_score_``. Without early stopping, ``tol`` and
      ``n_iter_no_change`` are not used: training runs ``max_iter`` epochs (MLPClassifier would
      also stop on the training loss). ``partial_fit`` does not use them.
    - ``standardize``: True makes the arraynet model standardize the features with the first fit's
      means and standard deviations (``NeuralNetwork(standardize=True)``); False (default) warns when
      they are far from unit scale (see ``fit``).
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (16,),
        activation: ActivationLike = "relu",
        learning_rate: float | None = None,
        num_iterations: int | None = None,
        init: str = "he",
        random_state: Any = None,
        record_every: int | None = None,
        progress: bool | None = False,
        *,
        solver: str = "sgd",
        batch_size: int | str | None = None,
        learning_rate_init: float = 0.1,
        max_iter: int = 1000,
        momentum: float = 0.0,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        shuffle: bool = True,
        alpha: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        standardize: bool = False,
    ) -> None:
        super().__init__(
            learning_rate, num_iterations, init, random_state, record_every, progress, solver=solver,
            batch_size=batch_size, learning_rate_init=learning_rate_init, max_iter=max_iter, momentum=momentum,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, shuffle=shuffle, alpha=alpha,
            early_stopping=early_stopping, validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            tol=tol, standardize=standardize,
        )
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation

    def _make_model(self, n_features: int, n_outputs: int) -> Model:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool) else sizes
        if not isinstance(sizes, (list, tuple)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be a positive integer or a sequence of them; got {self.hidden_layer_sizes!r}"
            )
        return NeuralNetwork(
            [n_features, *(int(n) for n in sizes), n_outputs],
            hidden_activation=self.activation,
            init=self.init,
            seed=_seed(self.random_state),
            standardize=self.standardize,
        )


class LogisticRegressionClassifier(_ArraynetClassifier):
    """Logistic regression [C1 2.2-2.7]: ``y_hat = sigma(w^T x + b)`` for two classes, multinomial
    (softmax) logistic regression for ``C > 2``, ``NeuralNetwork([n_features, C])`` [C2 3], trained
    on the cross-entropy cost, by default by batch gradient descent, ``w`` starting at zero
    (``init="zeros"``) or drawn with another init from ``random_state``. Its constructor arguments
    are ``NeuralNetworkClassifier``'s but the network's: ``init="zeros", random_state=None,
    record_every=None, progress=False, solver="sgd", batch_size=None, learning_rate_init=0.1,
    max_iter=1000, momentum=0.0, beta_1=0.9, beta_2=0.999, epsilon=1e-8, shuffle=True, alpha=0.0,
    early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, standardize=False`` (``alpha``: L2 regularization of ``w``, as ``NeuralNetworkClassifier``'s, MLPClassifier's
    definition)."""

    def _make_model(self, n_features: int, n_outputs: int) -> Model:
        if n_outputs > 1:  # multinomial logistic regression: a softmax layer on the features [C2 3]
            return NeuralNetwork([n_features, n_outputs], init=self.init, seed=_seed(self.random_state),
                                 standardize=self.standardize)
        return LogisticRegression(init=self.init, seed=_seed(self.random_state), standardize=self.standardize)
