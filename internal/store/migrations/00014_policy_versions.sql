-- +goose Up

-- Published policy versions (starter policy publish): the YAML as validated,
-- by its label and SHA-256. A label names one source for good; publishing the
-- same source again changes nothing.
CREATE TABLE policy_versions (
    version      text        PRIMARY KEY CHECK (version <> ''),
    digest       text        NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),
    source       text        NOT NULL,
    published_at timestamptz NOT NULL,
    published_by text        NOT NULL
);

-- Which version every worker runs: append-only, the highest seq is active.
-- A rollback is a new, higher activation, so a lead that compares sequences
-- only ever moves forward.
CREATE TABLE policy_activations (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version      text        NOT NULL REFERENCES policy_versions (version),
    kind         text        NOT NULL CHECK (kind IN ('activate', 'rollback')),
    activated_at timestamptz NOT NULL,
    activated_by text        NOT NULL
);

-- What each worker last said it runs (seq 0: its own file), for
-- starter policy status.
CREATE TABLE policy_workers (
    worker  text        PRIMARY KEY,
    version text        NOT NULL,
    digest  text        NOT NULL,
    seq     bigint      NOT NULL,
    seen_at timestamptz NOT NULL
);

-- What the policy's conditions read about each lead (profile, trigger,
-- event counts), beside its published view: starter policy shadow
-- evaluates a candidate policy on it. NULL until the lead publishes again.
ALTER TABLE lead_states ADD COLUMN inputs jsonb;

-- +goose Down
ALTER TABLE lead_states DROP COLUMN inputs;
DROP TABLE policy_workers;
DROP TABLE policy_activations;
DROP TABLE policy_versions;
