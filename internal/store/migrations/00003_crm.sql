-- +goose Up

-- The built-in CRM (LEADFLOW_CRM=builtin). Every write is an activity that
-- Temporal may retry, so each table that records an action has a UNIQUE key
-- (the activity's idempotency key) and inserts use ON CONFLICT DO NOTHING.
-- The "current" tables (lead_owner, lead_stage) change only when the keyed
-- row was new, so a late retry of an old call cannot undo a newer one.

CREATE TABLE owner_assignments (
    key      text        PRIMARY KEY CHECK (key <> ''),
    lead_id  text        NOT NULL,
    owner_id text        NOT NULL,
    previous text,
    why      text        NOT NULL DEFAULT '',
    at       timestamptz NOT NULL
);
CREATE INDEX owner_assignments_lead ON owner_assignments (lead_id, at);

CREATE TABLE lead_owner (
    lead_id    text        PRIMARY KEY,
    owner_id   text        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE tasks (
    id           bigserial   PRIMARY KEY, -- the TaskRef a rep and the API see
    key          text        NOT NULL UNIQUE CHECK (key <> ''),
    lead_id      text        NOT NULL,
    owner_id     text        NOT NULL,
    kind         text        NOT NULL,
    title        text        NOT NULL DEFAULT '',
    due_at       timestamptz,
    context      jsonb,      -- actions.HandoffContext: why now, score, timeline
    created_at   timestamptz NOT NULL,
    completed_at timestamptz,
    completed_by text
);
CREATE INDEX tasks_lead ON tasks (lead_id, id);
-- A rep's work queue: open tasks only.
CREATE INDEX tasks_open_owner ON tasks (owner_id, due_at) WHERE completed_at IS NULL;

CREATE TABLE notes (
    id      bigserial   PRIMARY KEY,
    key     text        NOT NULL UNIQUE CHECK (key <> ''),
    lead_id text        NOT NULL,
    body    text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX notes_lead ON notes (lead_id, id);

CREATE TABLE notifications (
    id       bigserial   PRIMARY KEY,
    key      text        NOT NULL UNIQUE CHECK (key <> ''),
    lead_id  text        NOT NULL,
    to_rep   text        NOT NULL,
    kind     text        NOT NULL,
    owner_id text,
    body     text        NOT NULL DEFAULT '',
    at       timestamptz NOT NULL
);
CREATE INDEX notifications_lead ON notifications (lead_id, id);
CREATE INDEX notifications_to ON notifications (to_rep, at);

CREATE TABLE alerts (
    id              bigserial   PRIMARY KEY,
    key             text        NOT NULL UNIQUE CHECK (key <> ''),
    lead_id         text        NOT NULL,
    kind            text        NOT NULL,
    message         text        NOT NULL,
    at              timestamptz NOT NULL,
    acknowledged_at timestamptz
);
CREATE INDEX alerts_lead ON alerts (lead_id, id);
CREATE INDEX alerts_open ON alerts (at) WHERE acknowledged_at IS NULL;

-- The CRM's lifecycle field: every change by key, and the current value.
CREATE TABLE stage_changes (
    key     text        PRIMARY KEY CHECK (key <> ''),
    lead_id text        NOT NULL,
    stage   text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX stage_changes_lead ON stage_changes (lead_id, at);

CREATE TABLE lead_stage (
    lead_id    text        PRIMARY KEY,
    stage      text        NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE lead_stage;
DROP TABLE stage_changes;
DROP TABLE alerts;
DROP TABLE notifications;
DROP TABLE notes;
DROP TABLE tasks;
DROP TABLE lead_owner;
DROP TABLE owner_assignments;
