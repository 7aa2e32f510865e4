-- +goose Up
-- Demo mode's JD Cloud simulator keeps its state here (its own schema, apart
-- from the product's tables), so simulated instances survive restarts.
CREATE SCHEMA jdcloudsim;
CREATE TABLE jdcloudsim.state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    state      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP SCHEMA jdcloudsim CASCADE;
