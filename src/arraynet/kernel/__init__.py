"""The course's math, written once against the Python Array API standard: activations, the cost,
initialisation, forward and backward propagation and the update, and the explicit-loop reference of
the same formulas (``loops``).

Nothing here imports an array library: every function receives the namespace ``xp`` (or resolves it
from its arguments at a public entry point). The one NumPy use is the host random generator in
``initialization``, which draws the weights so that one seed gives one network on every backend.
"""
