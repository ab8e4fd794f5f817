-- +goose Up

-- The HubSpot CRM adapter (LEADFLOW_CRM=hubspot, internal/hubspot).

-- Optional CRM identities of a rep (directory file keys email and
-- hubspot_owner_id): the adapter maps a rep to a HubSpot owner by the owner
-- ID, else by the owner whose email is the rep's.
ALTER TABLE reps
    ADD COLUMN email            text,
    ADD COLUMN hubspot_owner_id text CHECK (hubspot_owner_id ~ '^[0-9]+$');

-- Which HubSpot contact a lead is, when its leadId is not hs-<contactId>
-- (found by email once, then remembered). Several leads may be one contact
-- (two leadIds with one email); the webhook edge maps a contact back to a
-- lead through contact_id.
CREATE TABLE hubspot_contacts (
    lead_id    text        PRIMARY KEY CHECK (lead_id <> ''),
    contact_id text        NOT NULL CHECK (contact_id ~ '^[0-9]+$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hubspot_contacts_contact ON hubspot_contacts (contact_id, created_at);

-- Exactly-once creates (tasks, notes): one row per activity idempotency key.
-- object_id NULL = a create may be in flight or may have happened without
-- the reply reaching us; pending_since is when the last create attempt
-- started (see internal/hubspot's package doc for the algorithm).
CREATE TABLE hubspot_objects (
    key           text        PRIMARY KEY CHECK (key <> ''),
    kind          text        NOT NULL CHECK (kind IN ('task', 'note')),
    object_id     text        CHECK (object_id ~ '^[0-9]+$'),
    pending_since timestamptz NOT NULL,
    attempts      integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    recorded_at   timestamptz
);
-- Unconfirmed creates, for an operator's eye.
CREATE INDEX hubspot_objects_pending ON hubspot_objects (pending_since) WHERE object_id IS NULL;

-- +goose Down
DROP TABLE hubspot_objects;
DROP TABLE hubspot_contacts;
ALTER TABLE reps DROP COLUMN hubspot_owner_id, DROP COLUMN email;
