-- +goose Up

-- A task closes with the lead: completed (accepted, fields found) or
-- cancelled (rejected, reassigned, merged, left handoff), with the reason.
-- completed_at/completed_by stay the "closed at/by" of either outcome.
ALTER TABLE tasks ADD COLUMN outcome text CHECK (outcome IN ('completed', 'cancelled'));
ALTER TABLE tasks ADD COLUMN close_reason text;
UPDATE tasks SET outcome = 'completed' WHERE completed_at IS NOT NULL;

-- +goose Down
ALTER TABLE tasks DROP COLUMN close_reason;
ALTER TABLE tasks DROP COLUMN outcome;
