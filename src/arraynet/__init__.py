"""arraynet: logistic regression and L-layer neural networks written once against the Python Array
API standard, so the same kernel trains on NumPy, CuPy, PyTorch and any other Array API library."""

from . import _moved
from ._version import __version__ as __version__
from .backends import BACKENDS, asarray, available_backends, limit_threads
from .io.chunked import load_zarr
from .io.datasets import load_circles, load_flower, load_moons
from .io.loaders import load_csv, load_data, load_h5, load_npz
from .io.serialization import ModelFileError, load
from .kernel.activations import Activation, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .kernel.cost import compute_cost
from .kernel.initialization import initialize_parameters
from .kernel.optimizers import Adam, Decay, GradientDescent, Momentum, Optimizer, RMSprop
from .kernel.propagation import LayerCache, backward, forward, update
from .models import DivergenceError, EarlyStopping, LogisticRegression, NeuralNetwork, NotFittedError, gradient_check
from .models.history import History

__all__ = [
    "BACKENDS",
    "Activation",
    "Adam",
    "Decay",
    "DivergenceError",
    "EarlyStopping",
    "GradientDescent",
    "History",
    "LayerCache",
    "LeakyReLU",
    "LogisticRegression",
    "ModelFileError",
    "Momentum",
    "NeuralNetwork",
    "NotFittedError",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "asarray",
    "available_backends",
    "backward",
    "compute_cost",
    "forward",
    "gradient_check",
    "initialize_parameters",
    "limit_threads",
    "load",
    "load_circles",
    "load_csv",
    "load_data",
    "load_flower",
    "load_h5",
    "load_moons",
    "load_npz",
    "load_zarr",
    "update",
]

_moved.install()


def __getattr__(name: str) -> object:
    """The module paths before 0.2.0 (``arraynet.propagation``, ...): see ``arraynet._moved``."""
    return _moved.old_submodule(__name__, name)
