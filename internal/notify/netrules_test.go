package notify

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}
	cases := []struct {
		kind, url string
		allow     []netip.Prefix
		ok        bool
		why       string
	}{
		{KindFeishu, "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", nil, true, ""},
		{KindFeishu, "https://open.larksuite.com/open-apis/bot/v2/hook/abc", nil, false, "open.feishu.cn"},
		{KindLark, "https://open.larksuite.com/open-apis/bot/v2/hook/abc", nil, true, ""},
		{KindFeishu, "http://open.feishu.cn/open-apis/bot/v2/hook/abc", nil, false, "https://"},
		{KindFeishu, "https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/abc", nil, false, "open.feishu.cn"},
		{KindFeishu, "https://open.feishu.cn:8443/open-apis/bot/v2/hook/abc", nil, false, "open.feishu.cn"},
		{KindFeishu, "https://open.feishu.cn/open-apis/bot/v2/hook/", nil, false, "looks like"},
		{KindDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=xyz", nil, true, ""},
		{KindDingTalk, "https://oapi.dingtalk.com/robot/send", nil, false, "looks like"},
		{KindWeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", nil, true, ""},
		{KindWeCom, "https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", nil, false, "user name"},
		{KindWebhook, "https://hooks.example.com/in", nil, true, ""},
		{KindWebhook, "http://hooks.example.com/in", nil, false, "https://"},
		{KindWebhook, "https://127.0.0.1/in", nil, false, "loopback"},
		{KindWebhook, "https://10.0.0.1/in", nil, false, "private"},
		{KindWebhook, "https://169.254.169.254/latest/meta-data", nil, false, "link-local"},
		{KindWebhook, "https://[::1]/in", nil, false, "loopback"},
		{KindWebhook, "https://[::ffff:10.0.0.1]/in", nil, false, "private"},
		{KindWebhook, "https://localhost/in", nil, false, "localhost"},
		{KindWebhook, "https://10.20.3.4/in", allow, true, ""},
		{KindWebhook, "https://10.0.0.1/in", allow, false, "private"},
		{KindWebhook, "not a url", nil, false, "absolute"},
	}
	for _, c := range cases {
		err := CheckURL(c.kind, c.url, c.allow)
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.why)) {
			t.Errorf("CheckURL(%s, %s) = %v, want ok=%v (%q)", c.kind, c.url, err, c.ok, c.why)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes("10.20.0.0/16, 192.168.1.7\n fd00::/8")
	if err != nil || len(got) != 3 || got[1].String() != "192.168.1.7/32" {
		t.Errorf("ParsePrefixes = %v, %v", got, err)
	}
	if _, err := ParsePrefixes("10.0.0.0/8, intranet"); err == nil || !strings.Contains(err.Error(), "intranet") {
		t.Errorf("a bad entry: %v", err)
	}
}

func TestMaskURL(t *testing.T) {
	got := MaskURL("https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef")
	if got != "https://open.feishu.cn/••••cdef" || strings.Contains(got, "0123") {
		t.Errorf("MaskURL = %q", got)
	}
}
