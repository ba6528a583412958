"""The trainable models: an L-layer network and logistic regression."""

from .base import DivergenceError, Model, NotFittedError
from .early_stopping import EarlyStopping
from .gradient_check import gradient_check
from .logistic_regression import LogisticRegression
from .network import NeuralNetwork

__all__ = ["DivergenceError", "EarlyStopping", "LogisticRegression", "Model", "NeuralNetwork", "NotFittedError", "gradient_check"]
