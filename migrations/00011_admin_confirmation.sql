-- +goose Up
-- Separation of duties. An admin cannot make another admin on their own: a
-- grant from the web pages or from a single sign-on claim waits
-- (admin_pending) until a second, existing admin confirms it. created_by,
-- admin_requested_by and admin_confirmed_by remember who created or elevated
-- an account, whose access that account may then never change. NULL means
-- the system (the command line, the demo seed) or the identity provider.
ALTER TABLE users
    ADD COLUMN created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN admin_pending      boolean NOT NULL DEFAULT false,
    ADD COLUMN admin_requested_by bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN admin_confirmed_by bigint REFERENCES users (id) ON DELETE SET NULL,
    ADD CONSTRAINT users_admin_pending CHECK (NOT (admin AND admin_pending)),
    ADD CONSTRAINT users_admin_confirmer CHECK (admin_confirmed_by IS NULL OR admin_confirmed_by IS DISTINCT FROM admin_requested_by);

-- +goose Down
ALTER TABLE users
    DROP CONSTRAINT users_admin_confirmer,
    DROP CONSTRAINT users_admin_pending,
    DROP COLUMN admin_confirmed_by,
    DROP COLUMN admin_requested_by,
    DROP COLUMN admin_pending,
    DROP COLUMN created_by;
