# The app API's image: apis.shared and apis.app_api with requirements/app.txt, nothing of the inference API.
# Build from the repository root: docker build -f deploy/app_api.Dockerfile -t colloquy-app-api .
# `.ci/images` builds it with podman from a locally made stand-in for the base image and checks it through HTTP.
FROM python:3.11-slim AS build
WORKDIR /srv
COPY requirements/app.txt requirements/app.txt
# The venv holds exactly the lock's packages: pip and setuptools, which only installing needs, are removed.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/app.txt \
 && /opt/venv/bin/python -m pip uninstall --quiet --yes pip setuptools
COPY apis/__init__.py apis/__init__.py
COPY apis/shared apis/shared
COPY apis/app_api apis/app_api
# The code is importable from any working directory (a .pth line), and `colloquy` runs the shared command line
# (tokens, `storage init`, `serve app`) as it does in a source checkout.
RUN site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') \
 && echo /srv > "$site/colloquy-source.pth" \
 && printf '#!/opt/venv/bin/python\nimport sys\nfrom apis.shared.cli import main\nsys.exit(main())\n' \
      > /opt/venv/bin/colloquy \
 && chmod 755 /opt/venv/bin/colloquy
# Bytecode compiled once here, so that a start does not compile every module from source.
RUN /opt/venv/bin/python -m compileall -q apis /opt/venv/lib

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv colloquy && mkdir /data && chown colloquy /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/apis /srv/apis
WORKDIR /srv
USER colloquy
ENV PATH=/opt/venv/bin:$PATH DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "-m", "uvicorn", "apis.app_api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--no-server-header", "--no-access-log"]
