-- +goose Up
-- A request restores either a full backup (kind 'backup', backup_id set) or a
-- point in time of the source instance (kind 'time', restore_time set and
-- backup_id empty): the same approval, execution and tracking for both.
ALTER TABLE restore_requests
    ADD COLUMN kind         text NOT NULL DEFAULT 'backup' CHECK (kind IN ('backup', 'time')),
    ADD COLUMN restore_time timestamptz,
    ADD CONSTRAINT restore_requests_kind_fields CHECK (
        (kind = 'backup' AND backup_id <> '' AND restore_time IS NULL) OR
        (kind = 'time' AND restore_time IS NOT NULL));
CREATE INDEX restore_requests_kind ON restore_requests (kind, id DESC);

-- +goose Down
DROP INDEX restore_requests_kind;
ALTER TABLE restore_requests DROP CONSTRAINT restore_requests_kind_fields, DROP COLUMN restore_time, DROP COLUMN kind;
