# Style Studio as a Hugging Face Docker Space (or any container host): the browser studio on port 7860.
#   docker build -t style-studio .                       # CPU PyTorch (the default: a much smaller image)
#   docker build --build-arg TORCH=default -t style-studio-gpu .   # pip's default PyTorch build (CUDA)
#   docker run -p 7860:7860 [--gpus all] -v studio-data:/data style-studio
# The build runs the README's own setup command (./setup.sh), so CI, which runs that script on every change,
# exercises the same steps. Everything the studio writes goes under /data (STUDIO_DATA): mount a volume there
# (a Space's persistent storage is mounted at /data) to keep models and resumable training across restarts.
FROM python:3.11-slim

# ffmpeg: Gradio's video component converts and checks clips with it (PyAV brings its own libraries)
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*

# Spaces run the container as user 1000
RUN useradd -m -u 1000 user && mkdir -p /data && chown user /data
USER user
ENV HOME=/home/user PATH=/home/user/app/.venv/bin:$PATH STUDIO_DATA=/data STUDIO_CACHE=/home/user/app/.cache \
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=7860 GRADIO_ANALYTICS_ENABLED=False PYTHONUNBUFFERED=1
WORKDIR /home/user/app

ARG TORCH=cpu
COPY --chown=user . .
RUN STUDIO_TORCH=$TORCH ./setup.sh && rm -rf /home/user/.cache/pip

EXPOSE 7860
CMD ["python", "app.py"]
