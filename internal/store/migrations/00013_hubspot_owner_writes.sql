-- +goose Up

-- Owners the HubSpot CRM adapter wrote to contacts (AssignOwner), so the
-- webhook edge can tell leadflow's own hubspot_owner_id change, echoed back,
-- from one made in HubSpot: an echo carries the value written and an
-- occurredAt close to written_at (when the write started). Rows older than
-- 30 days are pruned as new ones are written for the contact.
CREATE TABLE hubspot_owner_writes (
    contact_id text        NOT NULL CHECK (contact_id ~ '^[0-9]+$'),
    owner_id   text        NOT NULL CHECK (owner_id ~ '^[0-9]+$'),
    written_at timestamptz NOT NULL,
    PRIMARY KEY (contact_id, owner_id, written_at)
);

-- +goose Down
DROP TABLE hubspot_owner_writes;
