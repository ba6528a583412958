# arraynet on an NVIDIA GPU (CuPy backend for CUDA 13), with the test suite and the benchmarks.
# The base image's CUDA major (13) matches the CuPy wheel of the "cuda13" extra; the host needs an
# NVIDIA driver for CUDA 13 and the NVIDIA Container Toolkit.
#   docker build -f docker/cuda.Dockerfile -t arraynet:cuda .
#   docker run --rm --gpus all arraynet:cuda                       # arraynet demo, on the GPU
#   docker run --rm --gpus all arraynet:cuda python -m pytest      # the tests, CuPy included
#   docker run --rm --gpus all arraynet:cuda arraynet bench        # the benchmarks
FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Ubuntu's own Python 3.12; its security updates replace old package versions in the archive,
# so pinning them would break the build rather than make it reproducible.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && useradd --uid 10001 --create-home --shell /bin/bash arraynet
WORKDIR /home/arraynet/arraynet
COPY --chown=arraynet:arraynet pyproject.toml README.md ARCHITECTURE.md CHANGELOG.md mkdocs.yml ./
COPY --chown=arraynet:arraynet docs ./docs
COPY --chown=arraynet:arraynet docker ./docker
COPY --chown=arraynet:arraynet src ./src
COPY --chown=arraynet:arraynet tests ./tests
COPY --chown=arraynet:arraynet benchmarks ./benchmarks
# the project from this source tree (a path, so there is no version to pin)
RUN pip install --no-cache-dir "./[cuda13,test]"

USER 10001
CMD ["arraynet", "demo"]
