# syntax=docker/dockerfile:1
# The Continuum image the Helm chart runs: orchestrator, Ray head/workers and the `helm test` hook.
#   docker build -t ghcr.io/continuum-project/continuum:0.1.0 .
# Packages go to /usr/local (not a venv): KubeRay starts Ray through `bash -l`, whose /etc/profile resets PATH.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
# Exactly what uv.lock names for the orchestrator extra, hash-checked; then the project without resolving.
RUN pip install --require-hashes -r scripts/uv-requirements.txt \
    && uv export --frozen --no-header --extra orchestrator --group build --no-emit-project -o /tmp/locked.txt \
    && pip install --prefix=/install --require-hashes --only-binary=:all: -r /tmp/locked.txt \
    && pip install --prefix=/install --no-deps --no-build-isolation --no-index .

FROM python:3.11-slim
# wget: KubeRay's exec probes on Ray pods call it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 continuum \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/continuum --create-home \
        --shell /usr/sbin/nologin continuum
COPY --from=build /install /usr/local
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Numeric, so runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/continuum
EXPOSE 50051 9464
ENTRYPOINT ["continuum"]
CMD ["orchestrator"]
