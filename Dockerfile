# shailoo's container image; "Running in Docker" in README.md shows how to use it.
#
# The build stage installs shailoo and exactly the dependencies pyproject.toml names into a
# virtual environment. Every one of them comes as a wheel from PyPI (python-gammu's carries
# libgammu, pgserver's carries PostgreSQL), so neither stage needs a compiler or a Debian
# package. The final stage is the same slim Python with that environment copied in.
FROM python:3.11-slim-bookworm AS build

RUN python -m venv /opt/shailoo
WORKDIR /src
# What setuptools needs to build shailoo: the metadata, the files it names, the packages.
COPY pyproject.toml README.md LICENSE ./
COPY parser/ parser/
COPY estimates/ estimates/
COPY modem/ modem/
COPY store/ store/
COPY gateway/ gateway/
COPY api/ api/
COPY cli/ cli/
COPY migrations/ migrations/
# The project, nothing else. With no compiler here, a dependency that has no wheel for this
# platform fails the build by name rather than halfway through a C build.
RUN /opt/shailoo/bin/pip install --no-cache-dir --disable-pip-version-check \
        --only-binary=:all: .


FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="shailoo" \
      org.opencontainers.image.description="SMS gateway for citizen election observers" \
      org.opencontainers.image.licenses="MIT"

# A fixed UID, for bind-mounted data directories and for USER below (numeric, so that the
# runtime can tell it is not root; it still gets the user's groups from /etc/group). dialout
# (GID 20 on Debian and Ubuntu) owns the modems' /dev/ttyUSB* and /dev/ttyACM*. /run/shailoo
# is where the embedded PostgreSQL keeps its lock file (XDG_RUNTIME_DIR below).
RUN groupadd --system --gid 10001 shailoo \
    && useradd --system --uid 10001 --gid shailoo --groups dialout \
        --home-dir /var/lib/shailoo --no-create-home --shell /usr/sbin/nologin shailoo \
    && install -d -o shailoo -g shailoo -m 0750 /var/lib/shailoo \
    && install -d -o shailoo -g shailoo -m 0700 /run/shailoo

COPY --from=build /opt/shailoo /opt/shailoo

ENV PATH=/opt/shailoo/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    XDG_RUNTIME_DIR=/run/shailoo \
    SHAILOO_DATA_DIR=/var/lib/shailoo \
    SHAILOO_API__HOST=0.0.0.0

USER 10001
WORKDIR /var/lib/shailoo
# The spool file and, with no SHAILOO_DATABASE_URL, the embedded PostgreSQL (postgres/).
VOLUME ["/var/lib/shailoo"]
EXPOSE 8080

# No curl in a slim image: Python asks /health (no token needed) on the API's port, bypassing
# any HTTP proxy set in the environment.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:%s/health' % os.environ.get('SHAILOO_API__PORT', '8080'), timeout=4)"]

# `docker run IMAGE` runs the gateway (migrating the schema first); any other shailoo command
# replaces CMD: `docker run IMAGE run --migrate --modem /dev/modem0`, `docker exec CONTAINER
# shailoo token create ...`.
ENTRYPOINT ["shailoo"]
CMD ["run", "--migrate"]
