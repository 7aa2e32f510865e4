package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"restoredesk/internal/audit"
	"restoredesk/internal/jobs"
	"restoredesk/internal/postgres"
)

// Service is what the admin pages do with channels and deliveries. Every
// change and every test is an audit event committed with it.
type Service struct {
	n      *Notifier
	client *jobs.Client
}

// NewService returns the admin operations over n, inserting jobs with client.
func NewService(n *Notifier, client *jobs.Client) *Service { return &Service{n: n, client: client} }

// Outbox reports whether deliveries go to the demo outbox.
func (s *Service) Outbox() bool { return s.n.cfg.Outbox }

// CanStoreSecrets reports whether NOTIFY_SECRET_KEY is set.
func (s *Service) CanStoreSecrets() bool { return s.n.cfg.Box != nil }

// ChannelForm is what an admin typed for a channel. URL and Secret empty on
// an update keep the stored ones: they are never shown back.
type ChannelForm struct {
	TeamID        *int64
	Kind          string
	Name          string
	URL           string
	Secret        string
	Address       string
	AllowNetworks string
	Enabled       bool
}

// FieldErrors maps form fields to what is wrong with them.
type FieldErrors map[string]string

func (e FieldErrors) Error() string { return "the channel has mistakes" }

// SaveChannel creates (id 0) or updates channel id from f, checking every
// field, and records admin.channel_changed. It returns the channel's id and,
// when it generated the webhook's signing secret (none was typed), that
// secret, to be shown once so the receiver can verify; or FieldErrors.
func (s *Service) SaveChannel(ctx context.Context, actor audit.Actor, id int64, f ChannelForm) (int64, string, error) {
	f.Name = strings.TrimSpace(f.Name)
	f.URL = strings.TrimSpace(f.URL)
	f.Secret = strings.TrimSpace(f.Secret)
	f.Address = strings.TrimSpace(f.Address)
	errs := FieldErrors{}
	var old postgres.Channel
	var generated string
	db := postgres.New(s.n.pool)
	if id != 0 {
		var err error
		if old, err = db.Channel(ctx, id); err != nil {
			return 0, "", err
		}
		f.Kind, f.TeamID = old.Kind, old.TeamID
	}
	if !slices.Contains(Kinds, f.Kind) {
		errs["kind"] = "Choose a kind of channel."
	}
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 100 {
		errs["name"] = "Give the channel a name of at most 100 characters."
	}
	allow, err := ParsePrefixes(f.AllowNetworks)
	if err != nil {
		errs["allow_networks"] = err.Error()
	}
	if f.Kind != KindWebhook && f.AllowNetworks != "" {
		errs["allow_networks"] = "Only webhooks may reach internal networks."
	}
	in := postgres.ChannelInput{TeamID: f.TeamID, Kind: f.Kind, Name: f.Name, AllowNetworks: strings.Join(strings.Fields(strings.ReplaceAll(f.AllowNetworks, ",", " ")), ", "), Enabled: f.Enabled}
	changed := []string{}
	if f.Kind == KindEmail {
		a, err := mail.ParseAddress(f.Address)
		if err != nil || a.Address != f.Address || len(f.Address) > 254 {
			errs["address"] = "Give one e-mail address, such as payments-team@example.com."
		}
		in.Address = f.Address
		if f.URL != "" || f.Secret != "" {
			errs["url"] = "An e-mail channel has no URL or secret."
		}
	} else if f.Kind != "" {
		secrets := Secrets{URL: f.URL, Secret: f.Secret}
		replace := id == 0 || f.URL != "" || f.Secret != ""
		if replace && id != 0 {
			// Changing one of the two keeps the other.
			prev, err := s.n.cfg.Box.Open(old.Secrets)
			if err != nil {
				errs["url"] = err.Error()
			}
			if secrets.URL == "" {
				secrets.URL = prev.URL
			}
			if secrets.Secret == "" {
				secrets.Secret = prev.Secret
			}
		}
		if replace {
			if err := CheckURL(f.Kind, secrets.URL, allow); err != nil {
				errs["url"] = err.Error() + "."
			}
			if f.Kind == KindWebhook && secrets.Secret != "" {
				if _, err := webhookKey(secrets.Secret); err != nil {
					errs["secret"] = err.Error() + "; leave it empty to have one generated."
				}
			}
			if f.Kind == KindWebhook && secrets.Secret == "" {
				secrets.Secret = NewWebhookSecret()
				generated = secrets.Secret
			}
			if f.Kind == KindWeCom && secrets.Secret != "" {
				errs["secret"] = "A WeCom robot has no signing secret: its key is in the URL."
			}
			if len(errs) == 0 {
				if in.Secrets, err = s.n.cfg.Box.Seal(secrets); err != nil {
					errs["url"] = err.Error()
				}
			}
			in.URLHint, in.HasSecret = MaskURL(secrets.URL), secrets.Secret != ""
			if f.URL != "" {
				changed = append(changed, "url")
			}
			if f.Secret != "" || (id == 0 && secrets.Secret != "") {
				changed = append(changed, "secret")
			}
		}
	}
	if len(errs) > 0 {
		return 0, "", errs
	}
	change := "created"
	if id != 0 {
		change = "updated"
		for _, c := range []struct {
			name string
			diff bool
		}{{"name", old.Name != in.Name}, {"address", old.Address != in.Address}, {"allow_networks", old.AllowNetworks != in.AllowNetworks}, {"enabled", old.Enabled != in.Enabled}} {
			if c.diff {
				changed = append(changed, c.name)
			}
		}
	}
	err = db.Tx(ctx, func(tx *postgres.DB) error {
		var err error
		if id == 0 {
			id, err = tx.InsertChannel(ctx, in)
		} else {
			err = tx.UpdateChannel(ctx, id, in)
		}
		if err != nil {
			return err
		}
		c, err := tx.Channel(ctx, id)
		if err != nil {
			return err
		}
		details := s.channelDetails(c)
		details["change"] = change
		if id != 0 && change == "updated" {
			details["changed"] = changed
		}
		return s.record(ctx, tx, audit.AdminChannelChanged, actor, c, details)
	})
	if err != nil {
		return 0, "", err
	}
	return id, generated, nil
}

// DeleteChannel removes channel id (its deliveries go with it).
func (s *Service) DeleteChannel(ctx context.Context, actor audit.Actor, id int64) error {
	return postgres.New(s.n.pool).Tx(ctx, func(tx *postgres.DB) error {
		c, err := tx.Channel(ctx, id)
		if err != nil {
			return err
		}
		details := s.channelDetails(c)
		details["change"] = "deleted"
		if err := tx.DeleteChannel(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, audit.AdminChannelChanged, actor, c, details)
	})
}

// TestChannel sends a test message to channel id now, once, and records the
// delivery and admin.channel_tested. The delivery says what the endpoint answered.
func (s *Service) TestChannel(ctx context.Context, actor audit.Actor, id int64) (postgres.Delivery, error) {
	db := postgres.New(s.n.pool)
	c, err := db.Channel(ctx, id)
	if err != nil {
		return postgres.Delivery{}, err
	}
	did, err := db.InsertDelivery(ctx, postgres.NewDelivery{ChannelID: &c.ID, Type: TypeTest})
	if err != nil {
		return postgres.Delivery{}, err
	}
	if err := s.n.attempt(ctx, did); err != nil {
		return postgres.Delivery{}, err
	}
	d, err := db.Delivery(ctx, did)
	if err != nil {
		return d, err
	}
	details := s.channelDetails(c)
	details["outcome"] = d.Status
	details["answer_status"] = d.AnswerStatus
	if d.Error != "" {
		details["error"] = d.Error
	}
	err = db.Tx(ctx, func(tx *postgres.DB) error { return s.record(ctx, tx, audit.AdminChannelTested, actor, c, details) })
	return d, err
}

// ErrNotResendable: only a failed or dropped delivery can be sent again.
var ErrNotResendable = errors.New("only a failed or dropped delivery can be sent again")

// Resend queues failed or dropped delivery id again, with a fresh set of
// attempts, in the transaction that requeues it.
func (s *Service) Resend(ctx context.Context, id int64) error {
	return pgx.BeginFunc(ctx, s.n.pool, func(tx pgx.Tx) error {
		ok, err := postgres.New(tx).RequeueDelivery(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotResendable
		}
		_, err = s.client.InsertTx(ctx, tx, DeliverArgs{DeliveryID: id}, nil)
		return err
	})
}

func (s *Service) channelDetails(c postgres.Channel) map[string]any {
	team := "global default"
	if c.TeamName != nil {
		team = *c.TeamName
	}
	return map[string]any{"channel": c.Name, "kind": c.Kind, "team": team}
}

func (s *Service) record(ctx context.Context, tx *postgres.DB, action string, actor audit.Actor, c postgres.Channel, details map[string]any) error {
	ev := audit.Event{Actor: actor, Action: action, TargetType: audit.TargetChannel, TargetID: strconv.FormatInt(c.ID, 10), Details: details}
	if c.TeamID != nil {
		ev.TeamID = *c.TeamID
	}
	_, err := audit.Record(ctx, tx.Conn(), ev)
	return err
}

// attempt makes one attempt at delivery id outside River (a test message):
// a retryable failure is recorded as failed, since nobody will retry it.
func (n *Notifier) attempt(ctx context.Context, id int64) error {
	err := n.deliver(ctx, id)
	var snooze *river.JobSnoozeError
	if errors.As(err, &snooze) {
		return postgres.New(n.pool).EndDelivery(ctx, id, "the channel is at its rate limit; try again in a minute")
	}
	if err != nil {
		return fmt.Errorf("test message: %w", err)
	}
	return nil
}
