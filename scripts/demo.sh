#!/usr/bin/env bash
# make demo: a Temporal dev server with the UI, Postgres, the worker and
# `starter serve`, then a simulated stream of leads. Ctrl-C stops everything
# this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${LEADFLOW_TEMPORAL_CLI:?run through make demo (it builds the pinned Temporal CLI)}"
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
UI_PORT="${UI_PORT:-8233}"
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
  --dynamic-config-value system.enableActivityEagerExecution=true "${sa_flags[@]}" \
  --log-level warn >"$RUN_DIR/temporal.log" 2>&1 &
pids+=($!)
wait_for "the Temporal dev server" "$LEADFLOW_TEMPORAL_CLI" operator cluster health --address "$TEMPORAL_ADDRESS"

echo "creating and migrating the database, importing deploy/directory.yaml…"
bin/starter db migrate
bin/starter directory import deploy/directory.yaml

echo "starting the worker and starter serve (logs in $RUN_DIR)…"
bin/worker >"$RUN_DIR/worker.log" 2>&1 &
pids+=($!)
bin/starter serve >"$RUN_DIR/serve.log" 2>&1 &
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

The SLA ladders keep running (minute-long SLAs in $LEADFLOW_POLICY): watch leads
get reminded, escalated and reassigned in the UI. Ctrl-C stops everything.
MSG
wait
