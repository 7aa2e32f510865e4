package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/notify"
	"restoredesk/internal/postgres"
	"restoredesk/internal/views"
)

// failingAfter is how many failed deliveries in a row flag a channel.
const failingAfter = 3

// deliveriesShown is how many deliveries a channel's page lists.
const deliveriesShown = 50

// requireNotify answers 404 when notifications are not wired (some tests).
func (h *Handler) requireNotify() error {
	if h.Notify == nil {
		return echo.ErrNotFound
	}
	return nil
}

// adminChannels lists the channels with the new-channel form.
func (h *Handler) adminChannels(c echo.Context) error {
	return h.renderChannels(c, http.StatusOK, views.ChannelForm{Kind: notify.KindWebhook, Enabled: true})
}

func (h *Handler) renderChannels(c echo.Context, status int, form views.ChannelForm) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cs, err := h.db.ListChannels(ctx)
	if err != nil {
		return err
	}
	p := views.ChannelsProps{CanSecrets: h.Notify.CanStoreSecrets(), Outbox: h.Notify.Outbox()}
	for _, ch := range cs {
		row := channelRow(c.Request().Context(), ch)
		if ch.TeamID == nil {
			p.Global = append(p.Global, row)
		} else {
			p.Teams = append(p.Teams, row)
		}
	}
	if p.Form, err = h.channelFormChoices(c, form); err != nil {
		return err
	}
	noStore(c)
	return render(c, status, views.AdminChannels(h.page(c, "Notification channels", "admin"), p))
}

// failingChannels returns the enabled channels failing repeatedly.
func (h *Handler) failingChannels(c echo.Context) ([]views.ChannelRow, error) {
	if h.Notify == nil {
		return nil, nil
	}
	cs, err := h.db.ListChannels(c.Request().Context())
	if err != nil {
		return nil, err
	}
	var out []views.ChannelRow
	for _, ch := range cs {
		if row := channelRow(c.Request().Context(), ch); row.Enabled && row.Failing {
			out = append(out, row)
		}
	}
	return out, nil
}

func channelRow(ctx context.Context, ch postgres.Channel) views.ChannelRow {
	row := views.ChannelRow{ID: ch.ID, Kind: notify.KindLabel(ch.Kind), Name: ch.Name, Target: ch.URLHint, Enabled: ch.Enabled,
		Failed: ch.Failed, Failing: ch.Failed >= failingAfter, Problem: ch.LastFailure}
	if ch.TeamName != nil {
		row.Team = *ch.TeamName
	}
	if ch.Kind == notify.KindEmail {
		row.Target = ch.Address
	}
	if ch.LastSentAt != nil {
		row.LastSent = views.WhenIn(ctx, *ch.LastSentAt)
	}
	return row
}

func (h *Handler) channelFormChoices(c echo.Context, f views.ChannelForm) (views.ChannelForm, error) {
	teams, err := h.db.ListTeams(c.Request().Context(), "", 1000)
	if err != nil {
		return f, err
	}
	for _, t := range teams {
		f.Teams = append(f.Teams, views.Option{Value: strconv.FormatInt(t.ID, 10), Label: t.Name})
	}
	for _, k := range notify.Kinds {
		f.Kinds = append(f.Kinds, views.Option{Value: k, Label: notify.KindLabel(k)})
	}
	return f, nil
}

// channelInput reads the channel form.
func channelInput(c echo.Context) (notify.ChannelForm, views.ChannelForm) {
	in := notify.ChannelForm{
		Kind: c.FormValue("kind"), Name: c.FormValue("name"), URL: c.FormValue("url"), Secret: c.FormValue("secret"),
		Address: c.FormValue("address"), AllowNetworks: c.FormValue("allow_networks"), Enabled: c.FormValue("enabled") == "on",
	}
	// What goes back into the form: never the URL or the secret.
	back := views.ChannelForm{TeamID: c.FormValue("team"), Kind: in.Kind, Name: in.Name, Address: in.Address,
		AllowNetworks: in.AllowNetworks, Enabled: in.Enabled}
	return in, back
}

// adminChannelCreate adds a channel.
func (h *Handler) adminChannelCreate(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	in, back := channelInput(c)
	errs := map[string]string{}
	if t := c.FormValue("team"); t != "" {
		id, err := strconv.ParseInt(t, 10, 64)
		if err == nil {
			_, err = h.db.TeamByID(c.Request().Context(), id)
		}
		if err != nil {
			errs["team"] = "Choose a team from the list."
		}
		in.TeamID = &id
	}
	if len(errs) > 0 {
		back.Errors = errs
		return h.renderChannels(c, http.StatusUnprocessableEntity, back)
	}
	id, generated, err := h.Notify.SaveChannel(c.Request().Context(), actorOf(c).Actor, 0, in)
	var fe notify.FieldErrors
	if errors.As(err, &fe) {
		back.Errors = fe
		return h.renderChannels(c, http.StatusUnprocessableEntity, back)
	}
	if err != nil {
		return err
	}
	if generated != "" {
		// The one time the generated secret is shown: the receiver needs it to
		// verify, and it is stored only sealed. The page is not cached.
		return h.renderChannel(c, http.StatusCreated, id, channelExtras{newSecret: generated})
	}
	return h.adminDone(c, "/admin/channels/"+strconv.FormatInt(id, 10), "Channel added. Send a test message to check it.")
}

// adminChannel shows one channel.
func (h *Handler) adminChannel(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return h.renderChannel(c, http.StatusOK, id, channelExtras{})
}

// channelExtras is what a channel's page shows besides the channel: the form
// as typed after a refused change, the test just sent, the webhook secret
// just generated.
type channelExtras struct {
	form      *views.ChannelForm
	test      *postgres.Delivery
	newSecret string
}

func (h *Handler) renderChannel(c echo.Context, status int, id int64, x channelExtras) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, test := x.form, x.test
	ch, err := h.db.Channel(ctx, id)
	if err != nil {
		return err
	}
	f := views.ChannelForm{Name: ch.Name, Address: ch.Address, AllowNetworks: ch.AllowNetworks, Enabled: ch.Enabled}
	if form != nil {
		f = *form
	}
	f.ID, f.Kind, f.URLHint, f.HasSecret = ch.ID, ch.Kind, ch.URLHint, ch.HasSecret
	ds, err := h.db.ChannelDeliveries(ctx, id, deliveriesShown)
	if err != nil {
		return err
	}
	p := views.ChannelProps{Form: f, Team: "global default", Kind: notify.KindLabel(ch.Kind), Deliveries: deliveryRows(c.Request().Context(), ds),
		Failing: ch.Failed >= failingAfter, CanSecrets: h.Notify.CanStoreSecrets(), Outbox: h.Notify.Outbox(), NewSecret: x.newSecret}
	if ch.TeamName != nil {
		p.Team = *ch.TeamName
	}
	if test != nil {
		row := deliveryRows(c.Request().Context(), []postgres.Delivery{*test})[0]
		p.Test = &row
	}
	noStore(c)
	return render(c, status, views.AdminChannel(h.page(c, "Channel "+ch.Name, "admin"), p))
}

// adminChannelUpdate changes a channel's settings.
func (h *Handler) adminChannelUpdate(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in, back := channelInput(c)
	_, _, err = h.Notify.SaveChannel(c.Request().Context(), actorOf(c).Actor, id, in)
	var fe notify.FieldErrors
	if errors.As(err, &fe) {
		back.Errors = fe
		return h.renderChannel(c, http.StatusUnprocessableEntity, id, channelExtras{form: &back})
	}
	if err != nil {
		return err
	}
	return h.adminDone(c, "/admin/channels/"+strconv.FormatInt(id, 10), "Channel saved.")
}

// adminChannelTest sends a test message now and shows what the endpoint answered.
func (h *Handler) adminChannelTest(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := h.Notify.TestChannel(c.Request().Context(), actorOf(c).Actor, id)
	if err != nil {
		return err
	}
	return h.renderChannel(c, http.StatusOK, id, channelExtras{test: &d})
}

// adminChannelDelete removes a channel.
func (h *Handler) adminChannelDelete(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Notify.DeleteChannel(c.Request().Context(), actorOf(c).Actor, id); err != nil {
		return err
	}
	return h.adminDone(c, "/admin/channels", "Channel deleted.")
}

// adminPersonalMail lists the personal e-mail deliveries.
func (h *Handler) adminPersonalMail(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	ds, err := h.db.PersonalDeliveries(c.Request().Context(), 0, 100)
	if err != nil {
		return err
	}
	noStore(c)
	return render(c, http.StatusOK, views.AdminPersonalMail(h.page(c, "Personal e-mail", "admin"),
		views.PersonalMailProps{Deliveries: deliveryRows(c.Request().Context(), ds), Outbox: h.Notify.Outbox()}))
}

// adminDeliveryResend queues a failed or dropped delivery again.
func (h *Handler) adminDeliveryResend(c echo.Context) error {
	if err := h.requireNotify(); err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := h.db.Delivery(ctx, id)
	if err != nil {
		return err
	}
	back := "/admin/channels/mail"
	if d.ChannelID != nil {
		back = "/admin/channels/" + strconv.FormatInt(*d.ChannelID, 10)
	}
	return h.resend(c, id, back, "Only a failed or dropped delivery can be sent again.")
}

// resend queues delivery id again through notify, and goes back with a flash
// saying so, or with refused when the delivery cannot be sent again.
func (h *Handler) resend(c echo.Context, id int64, back, refused string) error {
	if err := h.Notify.Resend(c.Request().Context(), id); errors.Is(err, notify.ErrNotResendable) {
		return h.adminDoneKind(c, "error", back, refused)
	} else if err != nil {
		return err
	}
	return h.adminDone(c, back, fmt.Sprintf("Delivery #%d queued again.", id))
}

// outbox shows, in demo mode only, every message that would have been sent.
func (h *Handler) outbox(c echo.Context) error {
	if h.Notify == nil || !h.Notify.Outbox() {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	ds, err := h.db.OutboxDeliveries(ctx, 200)
	if err != nil {
		return err
	}
	p := views.OutboxProps{Recipient: c.QueryParam("to")}
	for _, r := range deliveryRows(c.Request().Context(), ds) {
		if !slices.Contains(p.Recipients, r.Recipient) {
			p.Recipients = append(p.Recipients, r.Recipient)
		}
		if p.Recipient == "" || p.Recipient == r.Recipient {
			p.Messages = append(p.Messages, r)
		}
	}
	slices.Sort(p.Recipients)
	noStore(c)
	return render(c, http.StatusOK, views.Outbox(h.page(c, "Demo outbox", ""), p))
}

// accountNotifications stores the user's notification choices.
func (h *Handler) accountNotifications(c echo.Context) error {
	u := currentUser(c)
	if err := h.db.SetReminderMail(c.Request().Context(), u.ID, c.FormValue("reminder_mail") == "on"); err != nil {
		return err
	}
	return h.adminDone(c, "/account", "Notification choices saved.")
}

func deliveryRows(ctx context.Context, ds []postgres.Delivery) []views.DeliveryRow {
	out := make([]views.DeliveryRow, 0, len(ds))
	for _, d := range ds {
		r := views.DeliveryRow{ID: d.ID, When: views.WhenIn(ctx, d.CreatedAt), Type: d.Type, Status: d.Status, Attempts: d.Attempts,
			Error: d.Error, Recipient: d.Destination, Subject: d.Subject, Body: d.Body,
			CanResend: d.Status == notify.StatusFailed || d.Status == notify.StatusDropped}
		if d.Username != nil && r.Recipient == "" {
			r.Recipient = *d.Username
		}
		if d.RequestID != nil {
			r.Request = *d.RequestID
		}
		if d.AnswerStatus != 0 || d.Answer != "" {
			r.Answer = strings.TrimSpace(strconv.Itoa(d.AnswerStatus) + " " + d.Answer)
		}
		if d.NextAttemptAt != nil && d.Status == notify.StatusRetrying {
			r.NextAttempt = views.WhenIn(ctx, *d.NextAttemptAt)
		}
		switch d.Status {
		case notify.StatusSent:
			r.Badge = "ok"
		case notify.StatusFailed:
			r.Badge = "bad"
		case notify.StatusRetrying, notify.StatusQueued:
			r.Badge = "progress"
		default:
			r.Badge = "neutral"
		}
		out = append(out, r)
	}
	return out
}
