-- +goose Up

-- What the HTTP edge needs: where a merged lead's events now go, and which
-- event ids were already delivered (the "duplicates" count of POST /v1/events).

-- One row per merged lead; chains (a into b, b later into c) are followed
-- by MergedInto.
CREATE TABLE merges (
    lead_id     text        PRIMARY KEY,
    merged_into text        NOT NULL CHECK (merged_into <> lead_id),
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merges_into ON merges (merged_into);

-- Written only after Temporal accepted the event, so a row means delivered.
CREATE TABLE event_receipts (
    event_id    text        PRIMARY KEY,
    lead_id     text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE event_receipts;
DROP TABLE merges;
