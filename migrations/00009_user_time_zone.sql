-- +goose Up
-- The zone a user's pages show times in; '' means "my browser's, else the
-- deployment's default" (internal/timezone).
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT ''
    CHECK (length(time_zone) <= 64);

-- +goose Down
ALTER TABLE users DROP COLUMN time_zone;
