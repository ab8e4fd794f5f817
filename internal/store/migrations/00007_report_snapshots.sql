-- +goose Up

-- The weekly governance report (internal/governance) stores what it
-- computed, so next quarter's review reads the numbers people saw then, not
-- ones recomputed from a ledger that has grown since. One snapshot per
-- period and dimension: the report workflow may run twice (a retry, a manual
-- trigger) and keeps the first.
CREATE TABLE report_snapshots (
    period_from timestamptz NOT NULL,
    period_to   timestamptz NOT NULL CHECK (period_to > period_from),
    by_dim      text        NOT NULL DEFAULT '',
    report      jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period_from, period_to, by_dim)
);

-- +goose Down
DROP TABLE report_snapshots;
