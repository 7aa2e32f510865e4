package views

import "strconv"

// ChannelRow is one channel in the channel list.
type ChannelRow struct {
	ID       int64
	Team     string // "" for the global default
	Kind     string // label
	Name     string
	Target   string // masked URL or list address
	Enabled  bool
	Failing  bool // repeatedly failing: flagged
	Failed   int  // failed deliveries since the last one sent
	LastSent string
	Problem  string // the last failure's error
}

// ChannelsProps is the channel list with the new-channel form.
type ChannelsProps struct {
	Global     []ChannelRow
	Teams      []ChannelRow
	Form       ChannelForm
	CanSecrets bool // NOTIFY_SECRET_KEY is set
	Outbox     bool // demo: deliveries go to the outbox
}

// ChannelForm is the new or edit channel form's input.
type ChannelForm struct {
	ID            int64 // 0: new
	TeamID        string
	Kind          string
	Name          string
	Address       string
	AllowNetworks string
	Enabled       bool
	URLHint       string // edit: the masked stored URL
	HasSecret     bool   // edit: a secret is stored
	Teams         []Option
	Kinds         []Option
	Errors        map[string]string
}

// DeliveryRow is one delivery in a list.
type DeliveryRow struct {
	ID          int64
	When        string
	Type        string
	Request     int64 // 0: none
	Recipient   string
	Status      string
	Badge       string
	Attempts    int
	Answer      string // status and body
	Error       string
	NextAttempt string
	CanResend   bool
	Subject     string
	Body        string
}

// ChannelProps is one channel's page: its form, test button and deliveries.
type ChannelProps struct {
	Form       ChannelForm
	Team       string
	Kind       string
	Deliveries []DeliveryRow
	Failing    bool
	CanSecrets bool
	Outbox     bool
	Test       *DeliveryRow // the test just sent
	NewSecret  string       // the webhook signing secret just generated, shown this once
}

// PersonalMailProps lists the personal e-mail deliveries.
type PersonalMailProps struct {
	Deliveries []DeliveryRow
	Outbox     bool
}

// OutboxProps is the demo outbox: every message that would have been sent.
type OutboxProps struct {
	Recipient  string // filter, "" for all
	Recipients []string
	Messages   []DeliveryRow
}

func channelHref(id int64) string { return "/admin/channels/" + strconv.FormatInt(id, 10) }
func deliveryResendHref(id int64) string {
	return "/admin/deliveries/" + strconv.FormatInt(id, 10) + "/resend"
}
func requestHref(id int64) string { return "/requests/" + strconv.FormatInt(id, 10) }
