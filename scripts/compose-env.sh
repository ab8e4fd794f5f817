#!/usr/bin/env bash
# Writes .env beside docker-compose.yml with generated secrets, once: compose
# requires LEADFLOW_WEBHOOK_SECRET, LEADFLOW_ID_KEY, LEADFLOW_API_TOKEN and
# LEADFLOW_CODEC_KEYS (payload encryption: keep it, or histories cannot be read) and
# serve and the worker refuse any shorter than 32 bytes. An existing .env is
# kept: LEADFLOW_ID_KEY must not change once leads exist (it derives leadIds).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -e .env ]; then
  echo ".env exists; not touching it" >&2
  exit 0
fi
gen() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
(umask 077; {
  echo "LEADFLOW_WEBHOOK_SECRET=$(gen)"
  echo "LEADFLOW_ID_KEY=$(gen)"
  echo "LEADFLOW_API_TOKEN=$(gen)"
  echo "LEADFLOW_CODEC_KEYS=k1:$(head -c 32 /dev/urandom | base64)"
} >.env)
echo "wrote .env (mode 600); the API token is LEADFLOW_API_TOKEN in it"
