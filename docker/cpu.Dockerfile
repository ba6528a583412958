# arraynet on the CPU (NumPy backend), with the test suite and the benchmarks.
#   docker build -f docker/cpu.Dockerfile -t arraynet:cpu .
#   docker run --rm arraynet:cpu                        # arraynet demo
#   docker run --rm arraynet:cpu python -m pytest       # the tests
#   docker run --rm arraynet:cpu arraynet bench         # the benchmarks
FROM python:3.12.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --uid 10001 --create-home --shell /bin/bash arraynet
WORKDIR /home/arraynet/arraynet
COPY --chown=arraynet:arraynet pyproject.toml README.md ARCHITECTURE.md CHANGELOG.md mkdocs.yml ./
COPY --chown=arraynet:arraynet docs ./docs
COPY --chown=arraynet:arraynet docker ./docker
COPY --chown=arraynet:arraynet src ./src
COPY --chown=arraynet:arraynet tests ./tests
COPY --chown=arraynet:arraynet benchmarks ./benchmarks
# the project from this source tree (a path, so there is no version to pin)
RUN pip install --no-cache-dir "./[test]"

USER 10001
CMD ["arraynet", "demo"]
