-- +goose Up

-- The built-in nurture (LEADFLOW_NURTURE=builtin). As in the CRM tables,
-- each action is keyed by the activity's idempotency key.

CREATE TABLE nurture_enrollments (
    key     text        PRIMARY KEY CHECK (key <> ''),
    lead_id text        NOT NULL,
    track   text        NOT NULL,
    step    integer     NOT NULL DEFAULT 0,
    at      timestamptz NOT NULL
);
CREATE INDEX nurture_enrollments_lead ON nurture_enrollments (lead_id, at);

-- One row per lead: where it is on its track, and the row Send locks so two
-- sends for one lead cannot both pass the frequency cap.
CREATE TABLE nurture_state (
    lead_id       text        PRIMARY KEY,
    track         text,
    step          integer     NOT NULL DEFAULT 0,
    paused        boolean     NOT NULL DEFAULT false,
    pause_reasons text[]      NOT NULL DEFAULT '{}',
    stopped       boolean     NOT NULL DEFAULT false,
    stop_reason   text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nurture_pauses (
    key     text        PRIMARY KEY CHECK (key <> ''),
    lead_id text        NOT NULL,
    reasons text[]      NOT NULL DEFAULT '{}',
    at      timestamptz NOT NULL
);
CREATE INDEX nurture_pauses_lead ON nurture_pauses (lead_id, at);

CREATE TABLE nurture_stops (
    key     text        PRIMARY KEY CHECK (key <> ''),
    lead_id text        NOT NULL,
    reason  text        NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX nurture_stops_lead ON nurture_stops (lead_id, at);

-- The send log: the frequency cap counts these, and a repeated key is the
-- same send (a retried activity must not email twice).
CREATE TABLE nurture_sends (
    key     text        PRIMARY KEY CHECK (key <> ''),
    lead_id text        NOT NULL,
    track   text        NOT NULL,
    step    integer     NOT NULL,
    sent_at timestamptz NOT NULL
);
CREATE INDEX nurture_sends_lead ON nurture_sends (lead_id, sent_at);

-- Hard guards that outlive any track: an unsubscribed or bounced address is
-- never emailed again, whatever the workflow asks later.
CREATE TABLE nurture_suppressions (
    lead_id text        NOT NULL,
    reason  text        NOT NULL CHECK (reason IN ('unsubscribed', 'bounced')),
    at      timestamptz NOT NULL,
    PRIMARY KEY (lead_id, reason)
);

-- +goose Down
DROP TABLE nurture_suppressions;
DROP TABLE nurture_sends;
DROP TABLE nurture_stops;
DROP TABLE nurture_pauses;
DROP TABLE nurture_state;
DROP TABLE nurture_enrollments;
