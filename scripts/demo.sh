#!/usr/bin/env bash
# make demo: a Temporal dev server with the UI, Postgres, the worker and
# `starter serve`, then a simulated stream of leads. Ctrl-C stops everything
# this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${LEADFLOW_TEMPORAL_CLI:?run through make demo (it builds the pinned Temporal CLI)}"
: "${LEADFLOW_MAILPIT:?run through make demo (it builds the pinned mailpit)}"
CACHE_DIR="${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leadflow}"
RUN_DIR="$CACHE_DIR/demo"
mkdir -p "$RUN_DIR"

export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadflow?sslmode=disable}"
export LEADFLOW_POLICY="${LEADFLOW_POLICY:-deploy/policy.demo.yaml}"
# serve and the worker refuse secrets under 32 bytes: the demo generates its
# own once and keeps them beside its state, so derived leadIds stay stable.
if [ ! -s "$RUN_DIR/secrets.env" ]; then
  (umask 077; {
    echo "LEADFLOW_WEBHOOK_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    echo "LEADFLOW_ID_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
  } >"$RUN_DIR/secrets.env")
fi
# shellcheck source=/dev/null
. "$RUN_DIR/secrets.env"
export LEADFLOW_WEBHOOK_SECRET LEADFLOW_ID_KEY
export LEADFLOW_HTTP_ADDR="${LEADFLOW_HTTP_ADDR:-127.0.0.1:8080}"
export LEADFLOW_METRICS_ADDR="${LEADFLOW_METRICS_ADDR:-127.0.0.1:9090}"
export LEADFLOW_CODEC_ADDR="${LEADFLOW_CODEC_ADDR:-127.0.0.1:8081}"
UI_PORT="${UI_PORT:-8233}"
MAIL_SMTP="${MAIL_SMTP:-127.0.0.1:1025}"
MAIL_WEB="${MAIL_WEB:-127.0.0.1:8025}"
# The worker emails every notification to the mail catcher.
export LEADFLOW_SMTP_URL="${LEADFLOW_SMTP_URL:-smtp://$MAIL_SMTP}"
export LEADFLOW_EMAIL_FROM="${LEADFLOW_EMAIL_FROM:-leadflow@example.com}"
export LEADFLOW_TEMPORAL_UI_URL="${LEADFLOW_TEMPORAL_UI_URL:-http://127.0.0.1:$UI_PORT}"
DIRECTORY="${DIRECTORY:-deploy/directory.demo.yaml}"
export LEADFLOW_CODEC_CORS_ORIGINS="${LEADFLOW_CODEC_CORS_ORIGINS:-http://localhost:$UI_PORT,http://127.0.0.1:$UI_PORT}"
# Payload encryption: one demo key, generated once into the cache (never in
# the repository) and reused, so the demo's histories stay readable.
if [ -z "${LEADFLOW_CODEC_KEYS:-}" ] && [ -z "${LEADFLOW_CODEC_KEYS_FILE:-}" ]; then
  if [ ! -s "$RUN_DIR/codec-keys" ]; then
    (umask 077; echo "demo-1:$(head -c 32 /dev/urandom | base64)" >"$RUN_DIR/codec-keys")
  fi
  export LEADFLOW_CODEC_KEYS_FILE="$RUN_DIR/codec-keys"
fi
LEADS="${LEADS:-40}"
RATE="${RATE:-4}"

pids=()
cleanup() {
  echo
  echo "stopping what the demo started…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_for() { # wait_for DESCRIPTION COMMAND...
  local what=$1; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "timed out waiting for $what" >&2; exit 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_for postgres pg_isready -h 127.0.0.1 -p 5432
fi

echo "building worker and starter…"
go build -o bin/ ./worker ./starter

sa_flags=()
for sa in LeadStage=Keyword LeadOwner=Keyword LeadSegment=Keyword LeadTerritory=Keyword PolicyVersion=Keyword \
          LeadScore=Int SLADueAt=Datetime SLABreached=Bool NurtureSuppressed=Bool; do
  sa_flags+=(--search-attribute "$sa")
done
echo "starting the Temporal dev server (UI on :$UI_PORT, state in $RUN_DIR/temporal.db)…"
"$LEADFLOW_TEMPORAL_CLI" server start-dev --ip 127.0.0.1 --port "${TEMPORAL_ADDRESS##*:}" --ui-port "$UI_PORT" \
  --db-filename "$RUN_DIR/temporal.db" --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL \
  --ui-codec-endpoint "http://$LEADFLOW_CODEC_ADDR" \
  --dynamic-config-value system.enableActivityEagerExecution=true "${sa_flags[@]}" \
  --log-level warn >"$RUN_DIR/temporal.log" 2>&1 &
pids+=($!)
wait_for "the Temporal dev server" "$LEADFLOW_TEMPORAL_CLI" operator cluster health --address "$TEMPORAL_ADDRESS"

echo "starting mailpit, the mail catcher (SMTP on $MAIL_SMTP, web on http://$MAIL_WEB)…"
"$LEADFLOW_MAILPIT" --smtp "$MAIL_SMTP" --listen "$MAIL_WEB" --database "$RUN_DIR/mailpit.db" \
  >"$RUN_DIR/mailpit.log" 2>&1 &
pids+=($!)
wait_for "mailpit" curl -fsS "http://$MAIL_WEB/livez"

echo "creating and migrating the database, importing $DIRECTORY…"
bin/starter db migrate
bin/starter directory import "$DIRECTORY"

echo "starting the worker and starter serve (logs in $RUN_DIR)…"
bin/worker >"$RUN_DIR/worker.log" 2>&1 &
pids+=($!)
bin/starter serve >"$RUN_DIR/serve.log" 2>&1 &
pids+=($!)
# The UI decodes payloads through it (--ui-codec-endpoint above). The dev
# server's UI cannot send a bearer token (its codec settings report
# PassAccessToken false, and start-dev has no flag for it), so the demo's
# codec server, on loopback, asks for none.
LEADFLOW_API_TOKEN= bin/starter codec-server >"$RUN_DIR/codec-server.log" 2>&1 &
pids+=($!)
wait_for "starter serve" curl -fsS "http://$LEADFLOW_HTTP_ADDR/readyz"

echo "simulating $LEADS leads at $RATE per second…"
bin/starter simulate --leads "$LEADS" --rate "$RATE"

today=$(TZ=America/New_York date +%F)
echo
echo "today's numbers from the ledger (bin/starter report --from $today --to $today):"
bin/starter report --from "$today" --to "$today" || true

query='WorkflowType="LeadWorkflow" AND LeadStage="handoff" AND SLABreached=true'
enc=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1]))' "$query" 2>/dev/null || echo "")
cat <<MSG

Temporal UI:   http://127.0.0.1:$UI_PORT/namespaces/default/workflows
Stuck leads:   http://127.0.0.1:$UI_PORT/namespaces/default/workflows?query=$enc
               ($query)
Rep inbox:     http://$LEADFLOW_HTTP_ADDR/ui/inbox?rep=rep-1
Dashboard:     http://$LEADFLOW_HTTP_ADDR/ui/dashboard
Lead API:      http://$LEADFLOW_HTTP_ADDR/v1/leads/<leadId>   (bin/starter lead show <leadId>)
Metrics:       http://$LEADFLOW_METRICS_ADDR/metrics
Emails sent:   http://$MAIL_WEB   (mailpit: every handoff, reminder, escalation the worker sent)
Codec server:  http://$LEADFLOW_CODEC_ADDR (payloads are encrypted; the UI decodes through it)
               temporal workflow show -w lead/<leadId> --codec-endpoint http://$LEADFLOW_CODEC_ADDR

The SLA ladders keep running (minute-long SLAs in $LEADFLOW_POLICY): watch leads
get reminded, escalated and reassigned in the UI, and the emails they send arrive
in mailpit. Ctrl-C stops everything.
MSG
wait
