-- +goose Up

-- The sales directory (deploy/directory.yaml), imported with
-- `starter directory import` and edited (away time) without a deploy.
-- ImportDirectory replaces reps, pools, members, accounts and away in one
-- transaction; rep_load and pool_cursor are routing state and survive it.

-- A rep that leaves the file is marked inactive rather than deleted, so ids
-- in past assignments, tasks and the ledger still resolve to a name.
CREATE TABLE reps (
    id               text        PRIMARY KEY CHECK (id <> ''),
    name             text        NOT NULL DEFAULT '',
    manager          text,       -- a rep id; no FK, the file may list a rep before its manager
    timezone         text        NOT NULL, -- IANA; away dates and daily capacity are in this zone
    capacity_per_day integer     NOT NULL DEFAULT 0 CHECK (capacity_per_day >= 0), -- 0 = unlimited
    active           boolean     NOT NULL DEFAULT true,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pools (
    name     text PRIMARY KEY,
    strategy text NOT NULL CHECK (strategy IN ('round_robin', 'weighted_round_robin', 'least_loaded')),
    fallback text NOT NULL REFERENCES reps (id)
);

-- position keeps file order: round robin walks members in it.
CREATE TABLE pool_members (
    pool     text    NOT NULL REFERENCES pools (name) ON DELETE CASCADE,
    rep_id   text    NOT NULL REFERENCES reps (id),
    weight   integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
    position integer NOT NULL,
    PRIMARY KEY (pool, rep_id),
    UNIQUE (pool, position)
);

-- domain is normalized (lower case, no trailing dot) so lookups are exact;
-- written keeps the file's spelling for the round trip.
CREATE TABLE accounts (
    domain  text PRIMARY KEY,
    written text NOT NULL,
    owner   text NOT NULL REFERENCES reps (id),
    name    text NOT NULL DEFAULT ''
);

-- Inclusive date ranges in the rep's timezone. The unique key makes
-- `SetAway` safe to repeat.
CREATE TABLE away (
    id        bigserial PRIMARY KEY, -- keeps insertion (file) order
    rep_id    text NOT NULL REFERENCES reps (id),
    from_date date NOT NULL,
    to_date   date NOT NULL,
    CHECK (from_date <= to_date),
    UNIQUE (rep_id, from_date, to_date)
);

-- Leads assigned per rep per local calendar day of the rep, for capacity
-- and least_loaded. No FK: a rep's history outlives directory edits.
CREATE TABLE rep_load (
    rep_id   text    NOT NULL,
    day      date    NOT NULL,
    assigned integer NOT NULL DEFAULT 0 CHECK (assigned >= 0),
    PRIMARY KEY (rep_id, day)
);

-- Assignments made by rotation per pool; Route locks the row FOR UPDATE, so
-- concurrent routes through one pool take turns and the split follows the
-- weights exactly.
CREATE TABLE pool_cursor (
    pool   text   PRIMARY KEY,
    cursor bigint NOT NULL DEFAULT 0
);

-- One decision per idempotency key: a retried Route activity returns the
-- stored decision instead of advancing the cursor and load a second time.
CREATE TABLE route_decisions (
    key        text        PRIMARY KEY CHECK (key <> ''),
    lead_id    text        NOT NULL,
    decision   jsonb       NOT NULL,
    at         timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX route_decisions_lead ON route_decisions (lead_id, at);

-- +goose Down
DROP TABLE route_decisions;
DROP TABLE pool_cursor;
DROP TABLE rep_load;
DROP TABLE away;
DROP TABLE accounts;
DROP TABLE pool_members;
DROP TABLE pools;
DROP TABLE reps;
