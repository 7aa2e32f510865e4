-- +goose Up
-- One row describing this database's deployment. The id is generated once per
-- database and tags every instance Restore Desk creates, so a worker recognises
-- its own instances (docs/architecture.md); demo marks a database seeded with demo data, the
-- only kind demo mode may seed again.
CREATE TABLE deployment (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    demo       boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO deployment DEFAULT VALUES;

-- +goose Down
DROP TABLE deployment;
