# Production image: gunicorn serves the web app; the same image runs the worker and beat.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json ./
COPY scripts/assets scripts/assets
RUN mkdir -p static && bash scripts/assets

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=tracker.settings.production
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e .
COPY --from=assets /src/static/vendor static/vendor
RUN SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789abcdef \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --no-input
RUN useradd --system --uid 1000 tandem && chown -R tandem /app
USER tandem
EXPOSE 8000
CMD ["gunicorn", "tracker.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
