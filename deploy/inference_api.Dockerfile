# The inference API's image (the AgentCore Runtime contract on port 8080): apis.shared and apis.inference_api
# with requirements/inference.txt, nothing of the app API.
# Build from the repository root: docker build -f deploy/inference_api.Dockerfile -t colloquy-inference-api .
FROM python:3.11-slim AS build
WORKDIR /srv
COPY requirements/inference.txt requirements/inference.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/inference.txt
COPY apis/__init__.py apis/__init__.py
COPY apis/shared apis/shared
COPY apis/inference_api apis/inference_api
# Bytecode compiled once here, so that a start does not compile every module from source.
RUN /opt/venv/bin/python -m compileall -q apis /opt/venv/lib

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv colloquy && mkdir /data && chown colloquy /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/apis /srv/apis
WORKDIR /srv
USER colloquy
ENV PATH=/opt/venv/bin:$PATH DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/ping', timeout=4)"]
CMD ["python", "-m", "uvicorn", "apis.inference_api.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8080", "--no-server-header", "--no-access-log"]
