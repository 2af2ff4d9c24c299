# nbu-push container image: `docker build -t nbu-push:0.1.0 .`
# The base is pinned by version; pin it by digest too where you build, with the digest of
# `docker buildx imagetools inspect python:3.12.7-slim-bookworm` (PYTHON_IMAGE=...@sha256:...).
ARG PYTHON_IMAGE=python:3.12.7-slim-bookworm

# Build stage: a virtual environment with the dependencies of constraints.txt.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml setup.cfg README.md LICENSE constraints.txt ./
COPY nbu_push ./nbu_push
RUN python -m venv /opt/nbu-push \
 && /opt/nbu-push/bin/pip install --no-compile -c constraints.txt . \
 && /opt/nbu-push/bin/pip uninstall -y pip

# Final stage: the slim runtime and the virtual environment (no compilers, and no pip in the
# environment; the base image keeps its own pip under /usr/local).
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="nbu-push" \
      org.opencontainers.image.description="Veritas NetBackup jobs and storage for Prometheus" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/nbu-push/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/nbu-push /opt/nbu-push
RUN groupadd --system --gid 10001 nbu-push \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin nbu-push
USER 10001:10001
ENTRYPOINT ["nbu-push"]
