# One image for every verdicts process: web, workers, scheduler and the migrate one-shot.
# docker-compose.yml gives each service its full `verdicts ...` command, so there is no ENTRYPOINT.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, read from pyproject.toml alone, so that editing the code does not
# reinstall them: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
      > /tmp/requirements.txt \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Editable on purpose: templates/ sits at the repository root, outside the `services` package,
# and is read from the checkout at run time.
COPY . .
RUN pip install --no-cache-dir -e .

# Run as an unprivileged user. It owns only var/ (file outbox, scratch), not the code.
RUN useradd --system --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin verdicts \
 && mkdir -p /app/var \
 && chown verdicts:verdicts /app/var
USER verdicts

EXPOSE 8000
