# The predictor's image: the serving dependencies only, the model artifacts and their cards, run as
# a non-root user by the same production server as `make run`. Build from the repository root:
#   docker build --build-arg MODEL_VERSION=2 -t house-price:dev .
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# The venv gets no pip of its own: the base image's pip installs into it, and stays behind.
RUN python -m venv --without-pip /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN pip --python /opt/venv/bin/python install --no-cache-dir --disable-pip-version-check \
        --requirement /tmp/requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
# The model this image serves unless MODEL_PATH says otherwise; its revision is house-price-v<N>.
ARG MODEL_VERSION=1
# ORT_DISABLE_TELEMETRY: ONNX Runtime's official wheels send usage events to Microsoft and keep a
# device ID under $HOME; switched off, nothing leaves the pod and nothing wants the read-only root.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ORT_DISABLE_TELEMETRY=1 \
    HOST=0.0.0.0 \
    MODEL_PATH=model_data/model-v${MODEL_VERSION}.onnx
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY function/ function/
# Bytecode at build time: the root filesystem is read-only at run time, so without it every cold
# start would compile function/ again. unchecked-hash: the image's sources never change.
RUN ["python", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", "function"]
COPY model_data/*.onnx model_data/*.json model_data/
# A numeric user, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
# Knative sets PORT; the server defaults to 8080 without it.
EXPOSE 8080
ENTRYPOINT ["python", "-m", "function"]
