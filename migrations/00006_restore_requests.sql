-- +goose Up
-- Team ownership (docs/architecture.md, who may do what): the source instances a team may restore from (each
-- instance has one owning team) and the VPCs it may restore into (a VPC may be
-- shared by several teams).
CREATE TABLE team_instances (
    team_id       bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    region        text NOT NULL,
    instance_id   text NOT NULL,
    instance_name text NOT NULL DEFAULT '',
    engine        text NOT NULL DEFAULT '',
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region, instance_id)
);
CREATE INDEX team_instances_team ON team_instances (team_id, region);

CREATE TABLE team_vpcs (
    team_id  bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    region   text NOT NULL,
    vpc_id   text NOT NULL,
    vpc_name text NOT NULL DEFAULT '',
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, region, vpc_id)
);

-- A restore request and its lifecycle (docs/architecture.md, the request's states). The row is also the worker's
-- durable job: a request in approved, provisioning or creating is picked up
-- when next_check_at has passed.
CREATE TABLE restore_requests (
    id                   bigserial PRIMARY KEY,
    submission_key       text NOT NULL UNIQUE CHECK (length(submission_key) BETWEEN 16 AND 64), -- one request per rendered form
    team_id              bigint NOT NULL REFERENCES teams (id),
    requester_id         bigint NOT NULL REFERENCES users (id),
    status               text NOT NULL DEFAULT 'pending_approval' CHECK (status IN (
                             'pending_approval', 'approved', 'provisioning', 'creating', 'ready',
                             'rejected', 'cancelled', 'expired', 'failed')),
    region               text NOT NULL,
    source_instance_id   text NOT NULL,
    source_instance_name text NOT NULL DEFAULT '',
    backup_id            text NOT NULL,
    backup_name          text NOT NULL DEFAULT '',
    backup_time          text NOT NULL DEFAULT '',
    backup_size_bytes    bigint NOT NULL DEFAULT 0,
    engine               text NOT NULL,
    spec                 jsonb NOT NULL,                 -- jdcloud.RestoredInstanceSpec, without the tag
    reason               text NOT NULL CHECK (reason <> ''),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL,
    decided_by           bigint REFERENCES users (id),
    decided_at           timestamptz,
    decision_comment     text NOT NULL DEFAULT '',
    -- execution
    next_check_at        timestamptz,
    create_attempts      int NOT NULL DEFAULT 0,
    create_sent_at       timestamptz,                    -- a create may be in flight or done since then
    instance_id          text NOT NULL DEFAULT '',
    instance_status      text NOT NULL DEFAULT '',
    instance_created_at  timestamptz,
    internal_domain_name text NOT NULL DEFAULT '',
    instance_port        text NOT NULL DEFAULT '',
    poll_count           int NOT NULL DEFAULT 0,
    failure_reason       text NOT NULL DEFAULT '',
    failure              jsonb,                          -- JD Cloud's status, code, message, request id
    finished_at          timestamptz,
    CHECK (status <> 'rejected' OR decision_comment <> '')
);
CREATE INDEX restore_requests_team ON restore_requests (team_id, id DESC);
CREATE INDEX restore_requests_requester ON restore_requests (requester_id, id DESC);
CREATE INDEX restore_requests_status ON restore_requests (status, id DESC);
CREATE INDEX restore_requests_work ON restore_requests (next_check_at)
    WHERE status IN ('approved', 'provisioning', 'creating');
CREATE INDEX restore_requests_pending ON restore_requests (expires_at) WHERE status = 'pending_approval';

-- +goose Down
DROP TABLE restore_requests;
DROP TABLE team_vpcs;
DROP TABLE team_instances;
