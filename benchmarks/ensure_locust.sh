# Sourced by scripts/cluster and scripts/reliability: locust, pinned in pyproject's `load`
# extra, in its own virtualenv (.venv-locust). It needs a newer requests than the project
# pins, and the load should come from a client that shares nothing with the servers.
LOCUST_PIN="$(grep -o '"locust==[^"]*"' pyproject.toml | tr -d '"')"
if [ "$(.venv-locust/bin/locust --version 2>/dev/null | awk '{print $2}')" != "${LOCUST_PIN##*==}" ]; then
  echo "==> installing $LOCUST_PIN into .venv-locust"
  python3.11 -m venv .venv-locust
  .venv-locust/bin/pip install -q "$LOCUST_PIN"
fi
