# Minimal image for now: the same setup script as the README; the hosting issue makes it a Space.
FROM python:3.11-slim
RUN useradd -m -u 1000 user
USER user
WORKDIR /home/user/app
COPY --chown=user . .
RUN ./setup.sh
EXPOSE 7860
CMD [".venv/bin/python", "app.py"]
