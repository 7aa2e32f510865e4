package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Size bounds of the robots' messages, in bytes: Feishu and Lark refuse
// bodies over 20 KB; WeCom's markdown content stops at 4096 bytes; DingTalk
// publishes no figure, so its markdown is held to WeCom's bound.
const (
	maxFeishuBody    = 20 << 10
	maxMarkdownWeCom = 4096
	maxMarkdownDing  = 4096
)

// feishu sends an interactive card: the title as its header, the fields as
// plain text (so nothing a requester typed can become a link), and a button
// that opens the request page. Custom-bot buttons can only open URLs, which
// keeps every decision behind sign-in on Restore Desk.
func (s *Sender) feishu(ctx context.Context, d Destination, m Message) (Answer, error) {
	if err := CheckURL(d.Kind, d.URL, nil); err != nil {
		return Answer{}, &Error{Err: err}
	}
	text := m.Summary + "\n\n" + fieldsText(m.Fields)
	if m.Action != "" {
		text += "\n" + m.Action
	}
	var body []byte
	for limit := 16 << 10; ; limit /= 2 {
		elements := []any{map[string]any{"tag": "div", "text": map[string]any{"tag": "plain_text", "content": truncate(text, limit)}}}
		if m.URL != "" {
			elements = append(elements, map[string]any{"tag": "action", "actions": []any{map[string]any{
				"tag": "button", "type": "primary", "url": m.URL,
				"text": map[string]any{"tag": "plain_text", "content": "Open the request"},
			}}})
		}
		msg := map[string]any{
			"msg_type": "interactive",
			"card": map[string]any{
				"config":   map[string]any{"wide_screen_mode": true},
				"header":   map[string]any{"title": map[string]any{"tag": "plain_text", "content": truncate(m.Title, 200)}, "template": cardColour(m.Type)},
				"elements": elements,
			},
		}
		if d.Secret != "" {
			ts := s.now().Unix()
			msg["timestamp"] = strconv.FormatInt(ts, 10)
			msg["sign"] = SignFeishu(ts, d.Secret)
		}
		var err error
		if body, err = json.Marshal(msg); err != nil {
			return Answer{}, &Error{Err: err}
		}
		if len(body) <= maxFeishuBody || limit < 1024 {
			break
		}
	}
	a, raw, err := s.post(ctx, s.Net.client(false, nil), d.URL, nil, body)
	if err != nil {
		return a, err
	}
	// 11232: Feishu's flow limiting.
	return a, platformError(a, raw, 11232)
}

// dingtalk sends an actionCard: markdown text and one button to the request.
// With a sign secret the URL carries timestamp (ms) and sign.
func (s *Sender) dingtalk(ctx context.Context, d Destination, m Message) (Answer, error) {
	if err := CheckURL(d.Kind, d.URL, nil); err != nil {
		return Answer{}, &Error{Err: err}
	}
	u, _ := url.Parse(d.URL)
	if d.Secret != "" {
		q := u.Query()
		ts := s.now().UnixMilli()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", SignDingTalk(ts, d.Secret))
		u.RawQuery = q.Encode()
	}
	md := truncate(markdown(m), maxMarkdownDing)
	var msg map[string]any
	if m.URL != "" {
		msg = map[string]any{"msgtype": "actionCard", "actionCard": map[string]any{
			"title": truncate(m.Title, 200), "text": md, "btnOrientation": "0",
			"singleTitle": "Open the request", "singleURL": m.URL,
		}}
	} else {
		msg = map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": truncate(m.Title, 200), "text": md}}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return Answer{}, &Error{Err: err}
	}
	a, raw, err := s.post(ctx, s.Net.client(false, nil), u.String(), nil, body)
	if err != nil {
		return a, err
	}
	return a, platformError(a, raw, 130101) // 130101: "send too fast", over 20 a minute
}

// wecom sends markdown with a link to the request; the key in the URL is the
// only credential.
func (s *Sender) wecom(ctx context.Context, d Destination, m Message) (Answer, error) {
	if err := CheckURL(d.Kind, d.URL, nil); err != nil {
		return Answer{}, &Error{Err: err}
	}
	md := markdown(m)
	if m.URL != "" {
		link := "\n\n[Open the request](" + m.URL + ")"
		md = truncate(md, maxMarkdownWeCom-len(link)) + link
	} else {
		md = truncate(md, maxMarkdownWeCom)
	}
	body, err := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": md}})
	if err != nil {
		return Answer{}, &Error{Err: err}
	}
	a, raw, err := s.post(ctx, s.Net.client(false, nil), d.URL, nil, body)
	if err != nil {
		return a, err
	}
	// 45009: WeCom's "api freq out of limit".
	return a, platformError(a, raw, 45009)
}

// markdown renders m for DingTalk and WeCom, escaping every value so that
// text a requester typed stays text.
func markdown(m Message) string {
	var b strings.Builder
	b.WriteString("**" + escapeMarkdown(m.Title) + "**\n\n")
	b.WriteString(escapeMarkdown(m.Summary) + "\n\n")
	for _, f := range m.Fields {
		b.WriteString("- " + escapeMarkdown(f.Name) + ": " + escapeMarkdown(f.Value) + "\n")
	}
	if m.Action != "" {
		b.WriteString("\n**" + escapeMarkdown(m.Action) + "**\n")
	}
	return b.String()
}

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"#", `\#`, "<", "&lt;", ">", "&gt;", "!", `\!`, "|", `\|`, "\n", " ",
)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

func fieldsText(fs []Field) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Name + ": " + f.Value + "\n")
	}
	return b.String()
}

// cardColour picks the Feishu card header's colour from the event.
func cardColour(typ string) string {
	switch typ {
	case "request.ready":
		return "green"
	case "request.failed", "request.rejected", TypeEscalation:
		return "red"
	case "request.created", TypeReminder:
		return "orange"
	}
	return "blue"
}

func errTooLarge(n, limit int) error {
	return fmt.Errorf("the message is %d bytes, over the %d-byte limit", n, limit)
}
