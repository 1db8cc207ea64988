# GAN Explorer: the Streamlit app and the gan_core trainer in one image.
#
#   docker build -t gan-explorer .
#   docker run -p 127.0.0.1:8501:8501 -v gan-runs:/app/runs gan-explorer   # then open http://localhost:8501
# (127.0.0.1: this machine only. The app has no login; see the README's Docker section before publishing it wider.)
#
# NVIDIA GPUs: build on TensorFlow's GPU image and run with the NVIDIA container toolkit:
#   docker build --build-arg BASE_IMAGE=tensorflow/tensorflow:2.21.0-gpu -t gan-explorer:gpu .
#   docker run --gpus all -p 127.0.0.1:8501:8501 -v gan-runs:/app/runs gan-explorer:gpu
# Offline training data: mount it and point GAN_EXPLORER_DATA at it (-v ~/data:/data -e GAN_EXPLORER_DATA=/data).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GAN_EXPLORER_RUNS=/app/runs \
    GAN_EXPLORER_CACHE=/app/runs/_cache

WORKDIR /app
# Dependencies first, so that editing the code does not reinstall TensorFlow.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The package (gan_core, explorer_ui and the gan-explorer command), editable as the README installs it: gan_core
# finds pretrained/ (models, evaluators) beside itself, in /app.
COPY pyproject.toml ./
COPY gan_core/ gan_core/
COPY explorer_ui/ explorer_ui/
RUN pip install --no-deps -e .
COPY pages/ pages/
COPY pretrained/ pretrained/
COPY .streamlit/ .streamlit/
COPY app.py ./

# Not root: runs, uploads and exports are written to the volume by this user.
RUN useradd --create-home --uid 1000 explorer && mkdir -p /app/runs && chown explorer /app/runs
USER explorer
VOLUME /app/runs
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
