package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is a row of notify_channels: a team's group channel, or the global
// default when TeamID is nil. Secrets stay sealed here.
type Channel struct {
	ID            int64     `db:"id"`
	TeamID        *int64    `db:"team_id"`
	TeamName      *string   `db:"team_name"`
	Kind          string    `db:"kind"`
	Name          string    `db:"name"`
	Address       string    `db:"address"`
	AllowNetworks string    `db:"allow_networks"`
	Secrets       []byte    `db:"secrets"`
	URLHint       string    `db:"url_hint"`
	HasSecret     bool      `db:"has_secret"`
	Enabled       bool      `db:"enabled"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
	// Read with the channel: its recent deliveries' outcome.
	Failed      int        `db:"failed"`       // failed deliveries since the last one sent
	LastSentAt  *time.Time `db:"last_sent_at"` // last delivery sent
	LastFailure string     `db:"last_failure"` // the last failed delivery's error
}

const channelSelect = `
	SELECT c.id, c.team_id, t.name AS team_name, c.kind, c.name, c.address, c.allow_networks, c.secrets,
		c.url_hint, c.has_secret, c.enabled, c.created_at, c.updated_at,
		(SELECT count(*) FROM notify_deliveries d WHERE d.channel_id = c.id AND d.status = 'failed'
			AND d.id > COALESCE((SELECT max(s.id) FROM notify_deliveries s WHERE s.channel_id = c.id AND s.status = 'sent'), 0))::int AS failed,
		(SELECT max(s.sent_at) FROM notify_deliveries s WHERE s.channel_id = c.id AND s.status = 'sent') AS last_sent_at,
		COALESCE((SELECT f.error FROM notify_deliveries f WHERE f.channel_id = c.id AND f.status = 'failed' ORDER BY f.id DESC LIMIT 1), '') AS last_failure
	FROM notify_channels c LEFT JOIN teams t ON t.id = c.team_id`

func (d *DB) channels(ctx context.Context, where string, args ...any) ([]Channel, error) {
	rows, err := d.db.Query(ctx, channelSelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query channels: %w", err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Channel])
	if err != nil {
		return nil, fmt.Errorf("read channels: %w", err)
	}
	return cs, nil
}

// Channel returns channel id. It returns ErrNotFound when there is none.
func (d *DB) Channel(ctx context.Context, id int64) (Channel, error) {
	cs, err := d.channels(ctx, `WHERE c.id = $1`, id)
	if err != nil {
		return Channel{}, err
	}
	if len(cs) == 0 {
		return Channel{}, ErrNotFound
	}
	return cs[0], nil
}

// ListChannels returns every channel: the global defaults first, then by team and name.
func (d *DB) ListChannels(ctx context.Context) ([]Channel, error) {
	return d.channels(ctx, `ORDER BY c.team_id NULLS FIRST, t.name, c.name, c.id`)
}

// GroupChannels returns the enabled channels that receive a team's events:
// the team's own when it has any enabled, else the global defaults.
func (d *DB) GroupChannels(ctx context.Context, team int64) ([]Channel, error) {
	return d.channels(ctx, `
		WHERE c.enabled AND (c.team_id = $1 OR (c.team_id IS NULL AND NOT EXISTS (
			SELECT 1 FROM notify_channels o WHERE o.team_id = $1 AND o.enabled)))
		ORDER BY c.id`, team)
}

// ChannelInput is what creating or changing a channel stores. Secrets are
// already sealed; a nil Secrets on update keeps the stored ones.
type ChannelInput struct {
	TeamID        *int64
	Kind          string
	Name          string
	Address       string
	AllowNetworks string
	Secrets       []byte
	URLHint       string
	HasSecret     bool
	Enabled       bool
}

// InsertChannel stores a new channel and returns its id.
func (d *DB) InsertChannel(ctx context.Context, in ChannelInput) (int64, error) {
	var id int64
	err := d.db.QueryRow(ctx, `
		INSERT INTO notify_channels (team_id, kind, name, address, allow_networks, secrets, url_hint, has_secret, enabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		in.TeamID, in.Kind, in.Name, in.Address, in.AllowNetworks, in.Secrets, in.URLHint, in.HasSecret, in.Enabled).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert channel: %w", err)
	}
	return id, nil
}

// UpdateChannel changes channel id (its team and kind never change). It
// returns ErrNotFound when there is none.
func (d *DB) UpdateChannel(ctx context.Context, id int64, in ChannelInput) error {
	tag, err := d.db.Exec(ctx, `
		UPDATE notify_channels SET name = $2, address = $3, allow_networks = $4,
			secrets = COALESCE($5, secrets), url_hint = CASE WHEN $5::bytea IS NULL THEN url_hint ELSE $6 END,
			has_secret = CASE WHEN $5::bytea IS NULL THEN has_secret ELSE $7 END,
			enabled = $8, updated_at = now()
		WHERE id = $1`, id, in.Name, in.Address, in.AllowNetworks, in.Secrets, in.URLHint, in.HasSecret, in.Enabled)
	if err != nil {
		return fmt.Errorf("update channel: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteChannel removes channel id and its deliveries.
func (d *DB) DeleteChannel(ctx context.Context, id int64) error {
	tag, err := d.db.Exec(ctx, `DELETE FROM notify_channels WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Delivery is a row of notify_deliveries.
type Delivery struct {
	ID            int64      `db:"id"`
	ChannelID     *int64     `db:"channel_id"`
	UserID        *int64     `db:"user_id"`
	Role          string     `db:"role"`
	Type          string     `db:"type"`
	AuditSeq      *int64     `db:"audit_seq"`
	RequestID     *int64     `db:"request_id"`
	Status        string     `db:"status"`
	Attempts      int        `db:"attempts"`
	Destination   string     `db:"destination"`
	Subject       string     `db:"subject"`
	Body          string     `db:"body"`
	AnswerStatus  int        `db:"answer_status"`
	Answer        string     `db:"answer"`
	Error         string     `db:"error"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	SentAt        *time.Time `db:"sent_at"`
	NextAttemptAt *time.Time `db:"next_attempt_at"`
	Username      *string    `db:"username"` // personal: the recipient
}

const deliverySelect = `
	SELECT d.id, d.channel_id, d.user_id, d.role, d.type, d.audit_seq, d.request_id, d.status, d.attempts,
		d.destination, d.subject, d.body, d.answer_status, d.answer, d.error, d.created_at, d.updated_at,
		d.sent_at, d.next_attempt_at, u.username
	FROM notify_deliveries d LEFT JOIN users u ON u.id = d.user_id`

func (d *DB) deliveries(ctx context.Context, where string, args ...any) ([]Delivery, error) {
	rows, err := d.db.Query(ctx, deliverySelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query deliveries: %w", err)
	}
	ds, err := pgx.CollectRows(rows, pgx.RowToStructByName[Delivery])
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	return ds, nil
}

// Delivery returns delivery id. It returns ErrNotFound when there is none.
func (d *DB) Delivery(ctx context.Context, id int64) (Delivery, error) {
	ds, err := d.deliveries(ctx, `WHERE d.id = $1`, id)
	if err != nil {
		return Delivery{}, err
	}
	if len(ds) == 0 {
		return Delivery{}, ErrNotFound
	}
	return ds[0], nil
}

// ChannelDeliveries returns channel's latest deliveries, newest first.
func (d *DB) ChannelDeliveries(ctx context.Context, channel int64, limit int) ([]Delivery, error) {
	return d.deliveries(ctx, `WHERE d.channel_id = $1 ORDER BY d.id DESC LIMIT $2`, channel, limit)
}

// PersonalDeliveries returns the latest personal deliveries, newest first,
// of user (0: everyone's).
func (d *DB) PersonalDeliveries(ctx context.Context, user int64, limit int) ([]Delivery, error) {
	return d.deliveries(ctx, `WHERE d.user_id IS NOT NULL AND ($1 = 0 OR d.user_id = $1) ORDER BY d.id DESC LIMIT $2`, user, limit)
}

// OutboxDeliveries returns the latest deliveries that were kept in the demo
// outbox (sent without a network), newest first.
func (d *DB) OutboxDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	return d.deliveries(ctx, `WHERE d.status = 'sent' ORDER BY d.id DESC LIMIT $1`, limit)
}

// RequestDeliveries returns the deliveries about request id, oldest first.
func (d *DB) RequestDeliveries(ctx context.Context, request int64) ([]Delivery, error) {
	return d.deliveries(ctx, `WHERE d.request_id = $1 ORDER BY d.id`, request)
}

// NewDelivery is a delivery to create.
type NewDelivery struct {
	ChannelID *int64
	UserID    *int64
	Role      string
	Type      string
	AuditSeq  *int64
	RequestID *int64
}

// InsertDelivery stores a queued delivery and returns its id, or 0 when the
// event already has a delivery to that recipient or channel.
func (d *DB) InsertDelivery(ctx context.Context, n NewDelivery) (int64, error) {
	var id int64
	err := d.db.QueryRow(ctx, `
		INSERT INTO notify_deliveries (channel_id, user_id, role, type, audit_seq, request_id)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING RETURNING id`, n.ChannelID, n.UserID, n.Role, n.Type, n.AuditSeq, n.RequestID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("insert delivery: %w", err)
	}
	return id, nil
}

// DeliveryOutcome is what one attempt changes.
type DeliveryOutcome struct {
	Status        string
	Attempted     bool // count an attempt
	Destination   string
	Subject, Body string
	AnswerStatus  int
	Answer        string
	Error         string
	NextAttemptAt *time.Time
}

// RecordDelivery stores the outcome of an attempt on delivery id.
func (d *DB) RecordDelivery(ctx context.Context, id int64, o DeliveryOutcome) error {
	_, err := d.db.Exec(ctx, `
		UPDATE notify_deliveries SET status = $2, attempts = attempts + CASE WHEN $3 THEN 1 ELSE 0 END,
			destination = $4, subject = $5, body = $6, answer_status = $7, answer = $8, error = $9,
			next_attempt_at = $10, updated_at = now(),
			sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
		WHERE id = $1`, id, o.Status, o.Attempted, o.Destination, o.Subject, o.Body, o.AnswerStatus, o.Answer, o.Error, o.NextAttemptAt)
	if err != nil {
		return fmt.Errorf("record delivery: %w", err)
	}
	return nil
}

// EndDelivery marks a delivery that nobody will retry as failed, keeping its
// error or, when it has none, giving why.
func (d *DB) EndDelivery(ctx context.Context, id int64, why string) error {
	_, err := d.db.Exec(ctx, `
		UPDATE notify_deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = now(),
			error = CASE WHEN error = '' THEN $2 ELSE error END
		WHERE id = $1 AND status IN ('queued', 'retrying')`, id, why)
	if err != nil {
		return fmt.Errorf("end delivery: %w", err)
	}
	return nil
}

// RequeueDelivery puts a failed or dropped delivery back in the queue with
// its attempts reset, for a resend. It reports whether it did.
func (d *DB) RequeueDelivery(ctx context.Context, id int64) (bool, error) {
	tag, err := d.db.Exec(ctx, `
		UPDATE notify_deliveries SET status = 'queued', attempts = 0, error = '', next_attempt_at = NULL, updated_at = now()
		WHERE id = $1 AND status IN ('failed', 'dropped')`, id)
	if err != nil {
		return false, fmt.Errorf("requeue delivery: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReserveSend records a call to channel unless that would exceed one of the
// limits (calls per window) in the calls of every process: it returns how
// long to wait instead, 0 when the call may go now. Callers serialise on the
// channel row, so two processes cannot both take the last slot.
func (d *DB) ReserveSend(ctx context.Context, channel int64, limits map[time.Duration]int) (time.Duration, error) {
	var wait time.Duration
	err := d.Tx(ctx, func(tx *DB) error {
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM notify_channels WHERE id = $1 FOR UPDATE`, channel); err != nil {
			return fmt.Errorf("lock channel: %w", err)
		}
		for window, most := range limits {
			var n int
			var oldest *time.Time
			var now time.Time
			err := tx.db.QueryRow(ctx, `
				SELECT count(*), min(at), clock_timestamp() FROM (
					SELECT at FROM notify_sends WHERE channel_id = $1 AND at > clock_timestamp() - make_interval(secs => $2)
					ORDER BY at DESC LIMIT $3) recent`, channel, window.Seconds(), most).Scan(&n, &oldest, &now)
			if err != nil {
				return fmt.Errorf("count sends: %w", err)
			}
			if n >= most && oldest != nil {
				// The oldest of the last `most` calls leaves the window then.
				wait = max(wait, oldest.Add(window).Sub(now), time.Millisecond)
			}
		}
		if wait > 0 {
			return nil
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM notify_sends WHERE channel_id = $1 AND at < clock_timestamp() - interval '10 minutes'`, channel); err != nil {
			return err
		}
		_, err := tx.db.Exec(ctx, `INSERT INTO notify_sends (channel_id) VALUES ($1)`, channel)
		return err
	})
	return wait, err
}

// NotifyEvent is an audit event the fan-out reads.
type NotifyEvent struct {
	Seq        int64           `db:"seq"`
	OccurredAt time.Time       `db:"occurred_at"`
	ActorID    *int64          `db:"actor_id"`
	ActorName  string          `db:"actor_name"`
	Action     string          `db:"action"`
	TargetType string          `db:"target_type"`
	TargetID   string          `db:"target_id"`
	TeamID     *int64          `db:"team_id"`
	Details    json.RawMessage `db:"details"`
	Hash       string          `db:"hash"`
}

const notifyEventSelect = `SELECT seq, occurred_at, actor_id, actor_name, action, target_type, target_id, team_id,
	details, encode(hash, 'hex') AS hash FROM audit_events`

// LockNotifyCursor locks the fan-out cursor and returns the last audit seq
// fanned out; ok is false when another process holds it (it is fanning out).
func (d *DB) LockNotifyCursor(ctx context.Context) (seq int64, ok bool, err error) {
	err = d.db.QueryRow(ctx, `SELECT last_seq FROM notify_cursor FOR UPDATE SKIP LOCKED`).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("lock notification cursor: %w", err)
	}
	return seq, true, nil
}

// SetNotifyCursor moves the fan-out cursor to seq.
func (d *DB) SetNotifyCursor(ctx context.Context, seq int64) error {
	_, err := d.db.Exec(ctx, `UPDATE notify_cursor SET last_seq = $1`, seq)
	return err
}

// EventsAfter returns up to limit audit events after seq, in order. Events
// commit in seq order (writers hold the chain's lock until they commit), so
// a cursor over seq misses none.
func (d *DB) EventsAfter(ctx context.Context, seq int64, limit int) ([]NotifyEvent, error) {
	rows, err := d.db.Query(ctx, notifyEventSelect+` WHERE seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit events: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[NotifyEvent])
}

// Event returns audit event seq.
func (d *DB) Event(ctx context.Context, seq int64) (NotifyEvent, error) {
	rows, err := d.db.Query(ctx, notifyEventSelect+` WHERE seq = $1`, seq)
	if err != nil {
		return NotifyEvent{}, fmt.Errorf("read audit event: %w", err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[NotifyEvent])
	if errors.Is(err, pgx.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// Approvers returns the users who may decide team's requests other than
// requester: its leads who are not disabled, by username.
func (d *DB) Approvers(ctx context.Context, team, requester int64) ([]User, error) {
	return d.users(ctx, `WHERE id IN (SELECT user_id FROM memberships WHERE team_id = $1 AND lead) AND id <> $2 AND NOT disabled ORDER BY username`, team, requester)
}

// Admins returns the enabled admins, by username.
func (d *DB) Admins(ctx context.Context) ([]User, error) {
	return d.users(ctx, `WHERE admin AND NOT disabled ORDER BY username`)
}

func (d *DB) users(ctx context.Context, where string, args ...any) ([]User, error) {
	rows, err := d.db.Query(ctx, `SELECT `+userColumns+` FROM users `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	us, err := pgx.CollectRows(rows, pgx.RowToStructByName[User])
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return us, nil
}

// DueReminders returns pending requests created at least after ago that have
// not had a reminder of kind ("reminder" or "escalation").
func (d *DB) DueReminders(ctx context.Context, kind string, after time.Duration, limit int) ([]int64, error) {
	rows, err := d.db.Query(ctx, `
		SELECT r.id FROM restore_requests r
		WHERE r.status = 'pending_approval' AND r.created_at <= now() - make_interval(secs => $2) AND r.expires_at > now()
			AND NOT EXISTS (SELECT 1 FROM notify_reminders n WHERE n.request_id = r.id AND n.kind = $1)
		ORDER BY r.id LIMIT $3`, kind, after.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("due reminders: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// MarkReminder records that request's reminder of kind is sent; false means
// it already was.
func (d *DB) MarkReminder(ctx context.Context, request int64, kind string) (bool, error) {
	tag, err := d.db.Exec(ctx, `INSERT INTO notify_reminders (request_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING`, request, kind)
	if err != nil {
		return false, fmt.Errorf("mark reminder: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReminderMail reports whether user wants reminder mail (the default).
func (d *DB) ReminderMail(ctx context.Context, user int64) (bool, error) {
	on := true
	err := d.db.QueryRow(ctx, `SELECT reminder_mail FROM notify_prefs WHERE user_id = $1`, user).Scan(&on)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return true, fmt.Errorf("read notification choices: %w", err)
	}
	return on, nil
}

// SetReminderMail stores whether user wants reminder mail.
func (d *DB) SetReminderMail(ctx context.Context, user int64, on bool) error {
	_, err := d.db.Exec(ctx, `
		INSERT INTO notify_prefs (user_id, reminder_mail) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET reminder_mail = EXCLUDED.reminder_mail, updated_at = now()`, user, on)
	if err != nil {
		return fmt.Errorf("store notification choices: %w", err)
	}
	return nil
}
