-- +goose Up

-- Notifications that reach a person (internal/notify).

-- A person's Slack user ID (directory key slack): where a bot-token Slack
-- channel posts their notifications.
ALTER TABLE reps ADD COLUMN slack text CHECK (slack ~ '^[UW][A-Z0-9]+$');

-- One row per (notification key, channel, recipient): the record of each
-- delivery, and what makes a retried Notify activity send only what is
-- missing. A row is claimed ('sending') before the send, under a per-
-- recipient lock that also counts the recipient's last hour for the rate
-- limit, and marked 'delivered' after it; a failed send deletes its claim.
-- recipient is a directory person ID, or "ext-" + a hash of an address
-- outside the directory (ToEmails): no email address in a key.
CREATE TABLE notification_deliveries (
    key          text        NOT NULL CHECK (key <> ''),
    channel      text        NOT NULL CHECK (channel IN ('slack', 'email')),
    recipient    text        NOT NULL CHECK (recipient <> ''),
    lead_id      text        NOT NULL,
    kind         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('sending', 'delivered')),
    claimed_at   timestamptz NOT NULL,
    delivered_at timestamptz,
    PRIMARY KEY (key, channel, recipient)
);
-- The rate limit's window and the inbox's "delivered on".
CREATE INDEX notification_deliveries_recipient ON notification_deliveries (recipient, claimed_at);

-- +goose Down
DROP TABLE notification_deliveries;
ALTER TABLE reps DROP COLUMN slack;
