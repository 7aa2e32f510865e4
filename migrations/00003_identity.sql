-- +goose Up
-- Identity (docs/architecture.md; the README's configuration): users, teams and memberships, the server-side
-- sessions that make sign-out final, and the failed sign-in records that
-- throttle password guessing. The rules live here as constraints, so no code
-- path (handler, command line, seed, a psql session) can break them.

-- Usernames and team names are lowercase slugs: they appear in URLs, in the
-- single sign-on group names (restoredesk:<team>) and in the audit trail.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    email         text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 254),
    display_name  text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    -- An argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash), or ''
    -- for an account that signs in only through single sign-on.
    password_hash text NOT NULL DEFAULT '' CHECK (password_hash = '' OR password_hash LIKE '$argon2id$%'),
    disabled      boolean NOT NULL DEFAULT false,
    admin         boolean NOT NULL DEFAULT false,
    auditor       boolean NOT NULL DEFAULT false,
    -- Single sign-on accounts are linked by issuer and subject, never by e-mail.
    oidc_issuer   text,
    oidc_subject  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_oidc_pair CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
);
CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_oidc_key ON users (oidc_issuer, oidc_subject) WHERE oidc_issuer IS NOT NULL;

CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name_key ON teams (name);

-- A user is in a team at most once, as a member or as a lead.
CREATE TABLE memberships (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    team_id    bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    lead       boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, team_id)
);
CREATE INDEX memberships_team ON memberships (team_id, user_id);

-- Server-side sessions. The cookie carries a random id; only its SHA-256 is
-- stored, so a copy of this table cannot be replayed as cookies. A row that is
-- gone (sign-out, revocation, expiry) makes its cookie worthless everywhere.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,           -- absolute expiry
    client_addr  text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    method       text NOT NULL CHECK (method IN ('password', 'oidc')),
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-in records, one row per throttling key: the client address on
-- its own ('addr:<ip>') and the (account, client address) pair
-- ('account:<username>|<ip>'). Unknown usernames get rows exactly like real
-- ones, so the throttle reveals nothing. blocked_until grows with the count
-- and is capped: there is no permanent lockout.
CREATE TABLE sign_in_failures (
    key           text PRIMARY KEY CHECK (key LIKE 'addr:%' OR key LIKE 'account:%'),
    failures      integer NOT NULL CHECK (failures > 0),
    last_failed_at timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failed_at);

-- +goose Down
DROP TABLE sign_in_failures;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE teams;
DROP TABLE users;
