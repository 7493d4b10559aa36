# The app API's image: apis.shared and apis.app_api with requirements/app.txt, nothing of the inference API.
# Build from the repository root: docker build -f deploy/app_api.Dockerfile -t colloquy-app-api .
FROM python:3.11-slim AS build
WORKDIR /srv
COPY requirements/app.txt requirements/app.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/app.txt
COPY apis/__init__.py apis/__init__.py
COPY apis/shared apis/shared
COPY apis/app_api apis/app_api
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
