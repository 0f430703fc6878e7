# emma-mock as a container, for CI service containers and local runs:
#
#   docker build -t emma-mock . && docker run -p 8080:8080 emma-mock
#
# Configured by the same MOCKSERVER_* variables as the CLI (docker run -e ...).
# Custom fixtures: mount a file over /fixtures/default.json, or a folder of
# *.json files over /fixtures (files are read as uid 10001: make them
# world-readable). A --db file belongs in /data. Details: README, "CI: the mock as a container", and docs/ci.md.

# ---- build stage: source -> wheel; nothing else of it reaches the image ----
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The dependency list and the
# build backend, from pyproject.toml alone, so the runtime stage's dependency layer is rebuilt only when
# pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); \
open('/requirements.txt', 'w').write('\n'.join(p['project']['dependencies']) + '\n'); \
open('/build-requirements.txt', 'w').write('\n'.join(p['build-system']['requires']) + '\n')" \
 && python -m pip install --no-cache-dir -r /build-requirements.txt
COPY README.md LICENSE ./
COPY fixtures/ fixtures/
COPY mockserver/ mockserver/
RUN python -m pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

# ---- runtime stage: the wheel and its dependencies, no build tools, no tests ----
FROM python:3.12-slim
LABEL org.opencontainers.image.title="emma-mock" \
      org.opencontainers.image.description="A local mock of the Emma API's touchpoints endpoints, for tests and CI" \
      org.opencontainers.image.licenses="MIT"
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A fixed, non-root uid/gid (numeric USER below, so runAsNonRoot can verify it);
# /data is the one place it may write (working directory, home for a --db file).
RUN groupadd --system --gid 10001 emma \
 && useradd --system --uid 10001 --gid emma --no-log-init --no-create-home \
            --home-dir /data --shell /usr/sbin/nologin emma \
 && mkdir -p /fixtures /data \
 && chown emma:emma /data
# Dependencies from PyPI; like the official image does for the standard library,
# drop the test suites some of them ship (certifi's, for one).
COPY --from=build /requirements.txt /tmp/requirements.txt
RUN python -m pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt \
 && find "$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
         -depth -type d -name tests -exec rm -rf {} +
COPY --from=build /wheels/ /tmp/wheels/
RUN python -m pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
 && python -m pip check \
 && rm -rf /tmp/wheels
COPY fixtures/default.json /fixtures/default.json

ENV MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8080 \
    MOCKSERVER_FIXTURES=/fixtures
WORKDIR /data
USER 10001:10001
EXPOSE 8080
# Python, not curl; it reads MOCKSERVER_PORT when it runs, so it follows -e MOCKSERVER_PORT=...
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "mockserver.serving.healthcheck"]
# Exec form: python is PID 1 and gets SIGTERM from `docker stop` (the CLI exits 0 on it).
# Options after the image name are passed to emma-mock: docker run emma-mock --auth off
ENTRYPOINT ["emma-mock"]
