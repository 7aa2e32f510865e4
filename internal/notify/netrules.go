package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// chatHosts are the only hosts each robot's URL may name: a robot URL carries
// its token, so it must go to the platform and nowhere else.
var chatHosts = map[string]struct{ host, path, query string }{
	KindFeishu:   {"open.feishu.cn", "/open-apis/bot/v2/hook/", ""},
	KindLark:     {"open.larksuite.com", "/open-apis/bot/v2/hook/", ""},
	KindDingTalk: {"oapi.dingtalk.com", "/robot/send", "access_token"},
	KindWeCom:    {"qyapi.weixin.qq.com", "/cgi-bin/webhook/send", "key"},
}

// ChatURLExample shows an admin what a kind's URL looks like.
func ChatURLExample(kind string) string {
	switch kind {
	case KindFeishu, KindLark:
		return "https://" + chatHosts[kind].host + "/open-apis/bot/v2/hook/<token>"
	case KindDingTalk:
		return "https://oapi.dingtalk.com/robot/send?access_token=<token>"
	case KindWeCom:
		return "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>"
	case KindWebhook:
		return "https://hooks.example.com/restoredesk"
	}
	return ""
}

// CheckURL says why raw cannot be a kind's URL, or returns nil. Robot URLs
// must be the platform's own https address; webhook URLs must be https and,
// when they name an address, one that is public or inside allow.
func CheckURL(kind, raw string, allow []netip.Prefix) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("not an absolute URL")
	}
	if u.Scheme != "https" {
		return errors.New("the URL must start with https://")
	}
	if u.User != nil {
		return errors.New("the URL may not carry a user name or password")
	}
	if want, ok := chatHosts[kind]; ok {
		if u.Hostname() != want.host || (u.Port() != "" && u.Port() != "443") {
			return fmt.Errorf("a %s URL must be on https://%s (like %s)", KindLabel(kind), want.host, ChatURLExample(kind))
		}
		if want.query == "" {
			if token, ok := strings.CutPrefix(u.Path, want.path); !ok || token == "" || strings.Contains(token, "/") {
				return fmt.Errorf("a %s URL looks like %s", KindLabel(kind), ChatURLExample(kind))
			}
		} else if u.Path != want.path || u.Query().Get(want.query) == "" {
			return fmt.Errorf("a %s URL looks like %s", KindLabel(kind), ChatURLExample(kind))
		}
		return nil
	}
	if kind != KindWebhook {
		return fmt.Errorf("a %s channel has no URL", KindLabel(kind))
	}
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		return checkAddr(a, allow)
	}
	if h := strings.ToLower(u.Hostname()); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return errors.New("the URL names this machine (localhost)")
	}
	return nil
}

// ParsePrefixes reads an allow-list: CIDRs or single addresses, separated by
// commas, spaces or lines.
func ParsePrefixes(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a network such as 10.20.0.0/16 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// checkAddr refuses addresses that are not on the public internet — loopback,
// private, link-local (cloud metadata lives there), carrier-grade NAT,
// unspecified and multicast — unless an allow-list entry contains them.
func checkAddr(a netip.Addr, allow []netip.Prefix) error {
	a = a.Unmap()
	for _, p := range allow {
		if p.Contains(a) {
			return nil
		}
	}
	switch {
	case a.IsLoopback():
		return fmt.Errorf("%s is a loopback address; an admin must allow-list it", a)
	case a.IsPrivate() || cgnat.Contains(a):
		return fmt.Errorf("%s is a private address; an admin must allow-list it", a)
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return fmt.Errorf("%s is a link-local address; an admin must allow-list it", a)
	case a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() || (a.Is4() && a.As4()[0] == 0):
		return fmt.Errorf("%s is not a host address", a)
	}
	return nil
}

// Net is how deliveries reach the network. The zero value uses the system's
// resolver and certificate roots; tests point the platforms' hosts at local
// receivers through Resolve and trust their certificate through RootCAs.
type Net struct {
	RootCAs *x509.CertPool
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	Timeout time.Duration // per request; default 15s
	// Port, when set, gives the port dialled for a host instead of the
	// URL's (tests only: the platforms' hosts on 443 reach local receivers).
	Port func(host string) string
}

func (n Net) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if n.Resolve != nil {
		return n.Resolve(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// client returns an HTTP client that follows no redirects and, when check is
// set, dials only addresses checkAddr allows, checked after resolving so a
// name cannot be re-pointed at an internal address between check and use.
func (n Net) client(check bool, allow []netip.Prefix) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if n.Port != nil {
				port = n.Port(host)
			}
			addrs, err := n.resolve(ctx, host)
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", host, err)
			}
			var refused error
			for _, a := range addrs {
				if check {
					if err := checkAddr(a, allow); err != nil {
						refused = fmt.Errorf("refused: %s resolves to %w", host, err)
						continue
					}
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
			}
			if refused == nil {
				refused = fmt.Errorf("%s has no address", host)
			}
			return nil, refused
		},
		TLSClientConfig:       &tls.Config{RootCAs: n.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		MaxIdleConns:          10,
		IdleConnTimeout:       time.Minute,
		ForceAttemptHTTP2:     true,
	}
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect could lead anywhere, including inside; the answer is
		// kept and reported instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// MaskURL shows enough of a secret URL to recognise it: scheme, host and the
// last four characters.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "••••"
	}
	tail := raw
	if len(tail) > 4 {
		tail = tail[len(tail)-4:]
	}
	return u.Scheme + "://" + u.Host + "/••••" + tail
}
