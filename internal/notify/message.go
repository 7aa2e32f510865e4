// Package notify tells people what happens to restore requests: it turns
// audit events into messages, decides who receives them, and delivers them by
// e-mail, signed webhooks and the Feishu, Lark, DingTalk and WeCom robots.
package notify

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of channel. Email is personal mail (and a team's list address); the
// others are group channels.
const (
	KindEmail    = "email"
	KindWebhook  = "webhook"
	KindFeishu   = "feishu"
	KindLark     = "lark"
	KindDingTalk = "dingtalk"
	KindWeCom    = "wecom"
)

// Kinds lists the channel kinds in the order the admin pages offer them.
var Kinds = []string{KindWebhook, KindFeishu, KindLark, KindDingTalk, KindWeCom, KindEmail}

// KindLabel names a kind for people.
func KindLabel(kind string) string {
	switch kind {
	case KindEmail:
		return "E-mail"
	case KindWebhook:
		return "Webhook (Standard Webhooks)"
	case KindFeishu:
		return "Feishu custom bot"
	case KindLark:
		return "Lark custom bot"
	case KindDingTalk:
		return "DingTalk custom robot"
	case KindWeCom:
		return "WeCom group robot"
	}
	return kind
}

// Message types that are not audit actions.
const (
	TypeReminder   = "notify.reminder"   // a pending request still waits for its approvers
	TypeEscalation = "notify.escalation" // a pending request waited ESCALATE_AFTER
	TypeTest       = "notify.test"       // an admin's "Send test message"
)

// MessageTypes lists every type a message can have — the deliveries' type and
// the webhook body's "type" — in the README's order: the audit actions of
// GroupActions, then the reminder, the escalation and the test.
func MessageTypes() []string {
	return append(slices.Clone(GroupActions), TypeReminder, TypeEscalation, TypeTest)
}

// Message is one notification, independent of the channel that carries it.
type Message struct {
	ID      string    // stable across retries (the webhook-id)
	Type    string    // the audit action, or one of the Type constants
	Time    time.Time // when the event happened
	Title   string    // one line: "Restore request #12 needs approval"
	Summary string    // one sentence saying what happened
	Fields  []Field   // the request, team, source, backup, reason…
	Action  string    // who must act now ("Waiting for bob or grace to approve")
	URL     string    // the request's page; "" when BASE_URL is not set
	Data    any       // the webhook body's data member
}

// Field is one labelled value of a message.
type Field struct{ Name, Value string }

// Text renders m as plain text: the mail body and the base of the chat messages.
func (m Message) Text() string {
	var b strings.Builder
	b.WriteString(m.Summary)
	b.WriteString("\n\n")
	for _, f := range m.Fields {
		b.WriteString(f.Name + ": " + f.Value + "\n")
	}
	if m.Action != "" {
		b.WriteString("\n" + m.Action + "\n")
	}
	if m.URL != "" {
		b.WriteString("\nOpen the request: " + m.URL + "\n")
	}
	return b.String()
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + mark
}
