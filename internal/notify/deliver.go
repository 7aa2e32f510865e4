package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"restoredesk/internal/postgres"
	"restoredesk/internal/request"
)

// Delivery statuses.
const (
	StatusQueued   = "queued"
	StatusSent     = "sent"
	StatusRetrying = "retrying"
	StatusFailed   = "failed"
	StatusDropped  = "dropped" // the recipient is no longer one, or the message no longer applies
)

// OutboxAnswer is what a delivery kept in the demo outbox records.
const OutboxAnswer = "kept in the demo outbox: demo mode sends nothing"

// RateLimits are the robots' published limits, per channel across every
// process: Feishu and Lark 5 a second and 100 a minute, DingTalk and WeCom 20
// a minute. A delivery over the limit waits (snoozes) without using an attempt.
var RateLimits = map[string]map[time.Duration]int{
	KindFeishu:   {time.Second: 5, time.Minute: 100},
	KindLark:     {time.Second: 5, time.Minute: 100},
	KindDingTalk: {time.Minute: 20},
	KindWeCom:    {time.Minute: 20},
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	n *Notifier
}

// Timeout bounds one attempt, under River's job timeout.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 45 * time.Second }

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.n.deliver(ctx, job.Args.DeliveryID)
}

// deliver makes one attempt at delivery id. A retry is a snooze of the job
// for the backoff, and the delivery row counts the attempts, so the endpoint's
// Retry-After is honoured and the row always says where the delivery stands.
func (n *Notifier) deliver(ctx context.Context, id int64) error {
	db := postgres.New(n.pool)
	d, err := db.Delivery(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil // its channel was deleted
	}
	if err != nil {
		return err
	}
	if d.Status == StatusSent || d.Status == StatusFailed || d.Status == StatusDropped {
		return nil // a duplicate run has nothing to do
	}
	p, err := n.prepare(ctx, db, d)
	if err != nil {
		return err
	}
	out := postgres.DeliveryOutcome{Destination: p.destination, Subject: p.msg.Title, Body: p.msg.Text()}
	if p.drop != "" || p.fail != "" {
		out.Status, out.Error = StatusDropped, p.drop
		if p.drop == "" {
			out.Status, out.Error = StatusFailed, p.fail
		}
		return db.RecordDelivery(ctx, id, out)
	}
	if n.cfg.Outbox {
		out.Status, out.Answer = StatusSent, OutboxAnswer
		return db.RecordDelivery(ctx, id, out)
	}
	if d.ChannelID != nil {
		if limits := RateLimits[p.dest.Kind]; limits != nil {
			wait, err := db.ReserveSend(ctx, *d.ChannelID, limits)
			if err != nil {
				return err
			}
			if wait > 0 {
				return river.JobSnooze(wait)
			}
		}
	}
	answer, sendErr := n.cfg.Sender.Send(ctx, p.dest, p.msg)
	out.Attempted, out.AnswerStatus, out.Answer = true, answer.Status, answer.Body
	if sendErr == nil {
		out.Status = StatusSent
		return db.RecordDelivery(ctx, id, out)
	}
	out.Error = truncate(sendErr.Error(), 500)
	var ne *Error
	retry := errors.As(sendErr, &ne) && ne.Retry
	if ne != nil && ne.Answer != (Answer{}) {
		out.AnswerStatus, out.Answer = ne.Status, ne.Body
	}
	attempt := d.Attempts + 1
	if !retry || attempt > len(n.cfg.Backoff) {
		out.Status = StatusFailed
		n.cfg.Log.WarnContext(ctx, "delivery failed", "delivery", id, "attempts", attempt, "err", out.Error)
		return db.RecordDelivery(ctx, id, out)
	}
	wait := jitter(n.cfg.Backoff[attempt-1])
	if ne.RetryAfter > wait {
		wait = ne.RetryAfter
	}
	next := time.Now().Add(wait)
	out.Status, out.NextAttemptAt = StatusRetrying, &next
	if err := db.RecordDelivery(ctx, id, out); err != nil {
		return err
	}
	return river.JobSnooze(wait)
}

// prepared is a delivery ready to go, or the reason it no longer should.
type prepared struct {
	dest        Destination
	destination string // for the deliveries list
	msg         Message
	drop        string // why it is dropped
	fail        string // why it fails without an attempt (a configuration problem)
}

// prepare resolves a delivery's recipient as of now and renders its message.
func (n *Notifier) prepare(ctx context.Context, db *postgres.DB, d postgres.Delivery) (prepared, error) {
	var p prepared
	msgID := "msg_" + strconv.FormatInt(d.ID, 10)
	now := time.Now()
	if d.Type == TypeTest {
		return n.prepareChannel(ctx, db, d, func(name string) Message { return testMessage(msgID, name, n.cfg.BaseURL, now) })
	}
	if d.RequestID == nil {
		return p, fmt.Errorf("delivery %d names no request", d.ID)
	}
	r, err := db.Request(ctx, *d.RequestID)
	if err != nil {
		return p, err
	}
	ev := event{Type: d.Type, Request: r, BaseURL: n.cfg.BaseURL, Now: now}
	if d.AuditSeq != nil {
		e, err := db.Event(ctx, *d.AuditSeq)
		if err != nil {
			return p, err
		}
		ev.Event = &e
	}
	pending := r.Status == request.Pending
	if pending {
		if ev.Deciders, err = db.Approvers(ctx, r.TeamID, r.RequesterID); err != nil {
			return p, err
		}
	}
	// A new request's group message still goes out once decided (it says
	// so); a reminder or an escalation no longer applies.
	nudge := d.Type == TypeReminder || d.Type == TypeEscalation
	if d.ChannelID != nil {
		p, err := n.prepareChannel(ctx, db, d, func(string) Message { return render(msgID, ev) })
		if err == nil && nudge && !pending && p.drop == "" {
			p.drop = "the request was no longer pending when the message was due"
		}
		return p, err
	}
	p.msg = render(msgID, ev)
	u, err := postgres.LoadUser(ctx, db.Conn(), *d.UserID)
	if err != nil {
		return p, err
	}
	p.dest, p.destination = Destination{Kind: KindEmail, Address: u.Email}, u.Username+" <"+u.Email+">"
	asksDecision := d.Type == "request.created" || nudge
	switch {
	case u.Disabled:
		p.drop = "the account is disabled"
	case d.Role == RoleRequester && u.ID != r.RequesterID:
		p.drop = "no longer the requester"
	case (d.Role == RoleApprover || d.Role == RoleLead) && (!leads(u.Teams, r.TeamID) || u.ID == r.RequesterID):
		p.drop = "no longer a lead of " + r.TeamName
	case d.Role == RoleAdmin && !u.Admin:
		p.drop = "no longer an admin"
	case asksDecision && !pending:
		p.drop = "the request was no longer pending when the message was due"
	case d.Type == TypeReminder:
		if on, err := db.ReminderMail(ctx, u.ID); err != nil {
			return p, err
		} else if !on {
			p.drop = "the recipient turned reminder mail off"
		}
	}
	if !n.cfg.Outbox && n.cfg.Sender.Mail == nil {
		p.fail = "e-mail is not configured (SMTP_HOST is not set)"
	}
	return p, nil
}

func (n *Notifier) prepareChannel(ctx context.Context, db *postgres.DB, d postgres.Delivery, msg func(name string) Message) (prepared, error) {
	var p prepared
	c, err := db.Channel(ctx, *d.ChannelID)
	if err != nil {
		return p, err
	}
	p.msg = msg(c.Name)
	p.destination = c.URLHint
	if c.Kind == KindEmail {
		p.destination = c.Address
	}
	if !c.Enabled && d.Type != TypeTest {
		p.drop = "the channel is disabled"
		return p, nil
	}
	p.dest = Destination{Kind: c.Kind, Address: c.Address}
	if c.Kind == KindEmail {
		if !n.cfg.Outbox && n.cfg.Sender.Mail == nil {
			p.fail = "e-mail is not configured (SMTP_HOST is not set)"
		}
		return p, nil
	}
	if n.cfg.Outbox && n.cfg.Box == nil {
		return p, nil // the demo outbox needs no secrets
	}
	s, err := n.cfg.Box.Open(c.Secrets)
	if err != nil {
		p.fail = err.Error()
		return p, nil
	}
	p.dest.URL, p.dest.Secret = s.URL, s.Secret
	if p.dest.Allow, err = ParsePrefixes(c.AllowNetworks); err != nil {
		p.fail = "the channel's allowed networks: " + err.Error()
	}
	return p, nil
}
