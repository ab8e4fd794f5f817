-- +goose Up

-- The ledger is the record the weekly numbers are computed from: one row per
-- fact a lead workflow established (an event seen, a stage transition, a
-- routing decision, an SLA step, a rep's feedback, a first touch, ...).
--
-- The Record activity may run more than once (Temporal retries), so the
-- workflow's idempotency key is the primary key and inserts use
-- ON CONFLICT (key) DO NOTHING: a fact recorded twice is one row.
--
-- The dimensions every report groups by are columns, so the metrics are plain
-- SQL (see internal/store/metrics.go); detail that only one kind has lives in
-- data (jsonb):
--   transition   from_stage, to_stage
--   feedback     data.outcome (accepted | rejected), data.reason, data.repId
--   first_touch  data.ttftSeconds, data.ttftBusinessSeconds, data.slaMet
--   sla_step     data.action, data.breached
--   routing      data.rule, data.pool, data.fallback
-- Absent dimensions are NULL rather than '' so GROUP BY shows them as such.
CREATE TABLE ledger (
    key            text        PRIMARY KEY CHECK (key <> ''),
    lead_id        text        NOT NULL CHECK (lead_id <> ''),
    kind           text        NOT NULL CHECK (kind <> ''),
    at             timestamptz NOT NULL,  -- when it happened (workflow time), not when written
    from_stage     text,
    to_stage       text,
    why            text,
    owner_id       text,
    segment        text,
    territory      text,
    source         text,
    campaign       text,
    policy_version text,
    data           jsonb       NOT NULL DEFAULT '{}',
    recorded_at    timestamptz NOT NULL DEFAULT now()
);

-- A lead's history in order (explain, audits).
CREATE INDEX ledger_lead_at ON ledger (lead_id, at);
-- Every metric scans one kind over a time window.
CREATE INDEX ledger_kind_at ON ledger (kind, at);

-- Facts are never edited: a correction is a new fact. Deleting stays possible
-- for retention jobs.
-- +goose StatementBegin
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: row % cannot be updated', OLD.key;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_append_only BEFORE UPDATE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- +goose Down
DROP TABLE ledger;
DROP FUNCTION ledger_append_only();
