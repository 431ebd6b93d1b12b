# The CapsNet visualisation behind gunicorn, with the trained checkpoint inside the image.
#   docker build -t capsnet-visualization .
#   docker run --rm -p 5000:5000 capsnet-visualization      # then open http://localhost:5000
# Settings (workers, threads, port...) come from the environment: see gunicorn.conf.py.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    KERAS_BACKEND=tensorflow \
    PORT=5000

# The server runs as an unprivileged user (numeric, so Kubernetes' runAsNonRoot can check it);
# the code and the checkpoint stay owned by root, so the server cannot change them.
RUN useradd --create-home --uid 10001 --user-group capsnet

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The project, checkpoints/capsnet.weights.h5 included (.dockerignore keeps out the rest).
COPY . .

USER 10001:10001

EXPOSE 5000

# 200 once the model is loaded and traced; slim has no curl, so Python's urllib asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '5000'), timeout=4)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:create_app()"]
