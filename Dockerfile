# nbu-push container image: `docker build -t nbu-push:0.1.0 .`
# Build stage: a wheel and a virtual environment with every dependency.
FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY nbu_push ./nbu_push
RUN python -m venv /opt/nbu-push \
 && /opt/nbu-push/bin/pip install --no-compile . \
 && /opt/nbu-push/bin/pip uninstall -y pip

# Final stage: the slim runtime, the virtual environment, nothing else (no compilers, no pip).
FROM python:3.12-slim
LABEL org.opencontainers.image.title="nbu-push" \
      org.opencontainers.image.description="Veritas NetBackup jobs and storage for Prometheus"
ENV PATH=/opt/nbu-push/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/nbu-push /opt/nbu-push
RUN groupadd --system --gid 10001 nbu-push \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin nbu-push
USER 10001:10001
ENTRYPOINT ["nbu-push"]
