# Image for the tsquant jobs (migrations, loaders, scorer) used by docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY db ./db
COPY loaders ./loaders
COPY models_py ./models_py
COPY scripts ./scripts
ENV PYTHONPATH=/app
USER nobody
CMD ["python", "-m", "db.migrate"]
