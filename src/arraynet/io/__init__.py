"""Files in and out: data sets (``loaders``: .npz, .csv, .h5; ``datasets``: the generated ones),
model files (``serialization``), and the atomic writes every file goes through (``_atomic``)."""
