-- +goose Up
-- Notifications: the channels admins configure, each delivery of a message
-- (one row per message and recipient or channel, with what the endpoint
-- answered), the fan-out cursor over the audit trail, the reminders already
-- sent, the per-channel send log behind the rate limits, and users' choices.

-- A group channel: a team's robot, webhook or list address, or (team_id
-- NULL) the global default used by teams that have none. URLs and signing
-- secrets are sealed with NOTIFY_SECRET_KEY and never shown back; url_hint is
-- the masked form the admin pages show.
CREATE TABLE notify_channels (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id        bigint REFERENCES teams (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('email', 'webhook', 'feishu', 'lark', 'dingtalk', 'wecom')),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    address        text NOT NULL DEFAULT '' CHECK (kind <> 'email' OR address ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    allow_networks text NOT NULL DEFAULT '',   -- webhook: internal networks an admin allowed
    secrets        bytea,                      -- sealed notify.Secrets
    url_hint       text NOT NULL DEFAULT '',
    has_secret     boolean NOT NULL DEFAULT false,
    enabled        boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'email' OR secrets IS NOT NULL)
);
CREATE INDEX notify_channels_team ON notify_channels (team_id);

-- One message to one recipient (personal mail: user_id and the role that
-- made them a recipient, checked again when it is sent) or to one channel.
CREATE TABLE notify_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id    bigint REFERENCES notify_channels (id) ON DELETE CASCADE,
    user_id       bigint REFERENCES users (id) ON DELETE CASCADE,
    role          text NOT NULL DEFAULT '' CHECK (role IN ('', 'approver', 'requester', 'lead', 'admin')),
    type          text NOT NULL,             -- the audit action, or notify.reminder/escalation/test
    audit_seq     bigint,                    -- the event it tells of
    request_id    bigint REFERENCES restore_requests (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'retrying', 'failed', 'dropped')),
    attempts      int NOT NULL DEFAULT 0,
    destination   text NOT NULL DEFAULT '',  -- the address, or the channel's masked URL
    subject       text NOT NULL DEFAULT '',
    body          text NOT NULL DEFAULT '',  -- the message as last rendered
    answer_status int NOT NULL DEFAULT 0,    -- HTTP status or SMTP reply code; 0: no answer
    answer        text NOT NULL DEFAULT '' CHECK (octet_length(answer) <= 1024),
    error         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    next_attempt_at timestamptz,
    CHECK ((channel_id IS NULL) <> (user_id IS NULL)),
    CHECK ((user_id IS NULL) = (role = ''))
);
CREATE INDEX notify_deliveries_channel ON notify_deliveries (channel_id, id DESC);
CREATE INDEX notify_deliveries_user ON notify_deliveries (user_id, id DESC);
CREATE INDEX notify_deliveries_request ON notify_deliveries (request_id);
-- An event reaches a recipient or a channel once, whatever runs twice.
CREATE UNIQUE INDEX notify_deliveries_event_user ON notify_deliveries (audit_seq, user_id) WHERE audit_seq IS NOT NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX notify_deliveries_event_channel ON notify_deliveries (audit_seq, channel_id) WHERE audit_seq IS NOT NULL AND channel_id IS NOT NULL;

-- How far the fan-out has read the audit trail. It starts at the present:
-- history is not announced.
CREATE TABLE notify_cursor (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_seq bigint NOT NULL
);
INSERT INTO notify_cursor (last_seq) SELECT COALESCE(max(seq), 0) FROM audit_events;

-- The reminder and the escalation of a request, each sent at most once.
CREATE TABLE notify_reminders (
    request_id bigint NOT NULL REFERENCES restore_requests (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('reminder', 'escalation')),
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, kind)
);

-- Each call made to a channel, for its rate limit (kept a few minutes).
CREATE TABLE notify_sends (
    channel_id bigint NOT NULL REFERENCES notify_channels (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notify_sends_channel ON notify_sends (channel_id, at);

-- A user's choices; no row means the defaults.
CREATE TABLE notify_prefs (
    user_id       bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    reminder_mail boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE notify_prefs;
DROP TABLE notify_sends;
DROP TABLE notify_reminders;
DROP TABLE notify_cursor;
DROP TABLE notify_deliveries;
DROP TABLE notify_channels;
