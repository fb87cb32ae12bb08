# The one image of web, worker and beat (docker-compose.yml picks the process by its command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Chromium prints the monthly report's PDF (analytics/render/pdf.py); fonts-noto-cjk gives it the
# Chinese glyphs (without it every character prints as an empty box).
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Collect static files into the image (whitenoise serves them). The secret exists only for this
# build step: settings refuse DEBUG=0 without one, and nothing signed here is kept.
RUN DEBUG=0 SECRET_KEY=build-only-dummy-secret-key-never-used-at-runtime-0123456789abcdef \
    ALLOWED_HOSTS=build.invalid python manage.py collectstatic --no-input \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var \
    && chown -R app:app /app/var

USER app
EXPOSE 8000

CMD ["gunicorn", "governance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
