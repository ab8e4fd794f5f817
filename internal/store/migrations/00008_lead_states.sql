-- +goose Up

-- The last state each lead published (actions.StateSnapshot): what
-- GET /v1/leads/{leadId} answers, marked stale, when no worker can answer
-- the workflow's state query. One row per lead, replaced only by a snapshot
-- with a higher seq, so a late retry of an older write never wins.
CREATE TABLE lead_states (
    lead_id      text        PRIMARY KEY CHECK (lead_id <> ''),
    seq          bigint      NOT NULL,
    published_at timestamptz NOT NULL,  -- the snapshot's At (workflow time)
    view         jsonb       NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE lead_states;
