-- +goose Up

-- The inbox lists a rep's leads in a stage, and the dashboard the leads of
-- a stage past a deadline, from their last published state: both filter
-- on the view's stage first (and the inbox on its owner).
CREATE INDEX lead_states_stage_owner ON lead_states ((view->>'stage'), (view->>'ownerId'));

-- +goose Down
DROP INDEX lead_states_stage_owner;
