package jdcloud

import (
	"net/http"
	"testing"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"abcXYZ019-_.~", "abcXYZ019-_.~"},
		{"restore demo", "restore%20demo"},
		{"a*b", "a%2Ab"},
		{"a/b", "a%2Fb"},
		{"instances:createInstanceFromBackup", "instances%3AcreateInstanceFromBackup"},
		{"a+b", "a%2Bb"},
		{"100%", "100%25"},
		{"中文", "%E4%B8%AD%E6%96%87"},
		{"!'()", "%21%27%28%29"},
		{"\x00\xff", "%00%FF"},
	} {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"empty is root", "", "/"},
		{"root", "/", "/"},
		{"escaped action as the SDKs send it", "/v1/regions/cn-north-1/instances%3AcreateInstanceFromBackup", "/v1/regions/cn-north-1/instances%3AcreateInstanceFromBackup"},
		{"raw colon is escaped", "/v1/resource:action", "/v1/resource%3Aaction"},
		{"trailing slash kept", "/v1/regions/cn-north-1/vpcs/", "/v1/regions/cn-north-1/vpcs/"},
		{"escaped slash stays in its segment", "/v1/a%2fb", "/v1/a%2Fb"},
		{"lower-case hex normalised", "/v1/a%3ab", "/v1/a%3Ab"},
		{"escaped tilde unescaped", "/v1/a%7Eb", "/v1/a~b"},
		{"space", "/v1/a b", "/v1/a%20b"},
		{"plus is not a space in paths", "/v1/a+b", "/v1/a%2Bb"},
		{"non-ASCII raw", "/v1/中", "/v1/%E4%B8%AD"},
		{"non-ASCII escaped", "/v1/%E4%B8%AD", "/v1/%E4%B8%AD"},
		{"asterisk", "/v1/a*", "/v1/a%2A"},
		{"bad escape kept literally", "/v1/50%", "/v1/50%25"},
		{"double slash kept", "/v1//x", "/v1//x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := canonicalPath(tc.in); got != tc.want {
				t.Errorf("canonicalPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"none", "", ""},
		{"sorted by name", "pageSize=10&pageNumber=2", "pageNumber=2&pageSize=10"},
		{"doc example with a bare percent", "p1=p1&p0=p0&o=%&u=u", "o=%25&p0=p0&p1=p1&u=u"},
		{"invalid escape", "o=%zz", "o=%25zz"},
		{"plus is a space", "a=x+y", "a=x%20y"},
		{"percent-20 is a space", "a=x%20y", "a=x%20y"},
		{"asterisk escaped", "a=db*", "a=db%2A"},
		{"slash and colon escaped, tilde kept", "a=a/b:c~d", "a=a%2Fb%3Ac~d"},
		{"escaped tilde unescaped", "a=%7E", "a=~"},
		{"lower-case hex normalised", "a=%2a", "a=%2A"},
		{"non-ASCII", "a=中文", "a=%E4%B8%AD%E6%96%87"},
		{"empty value", "a=", "a="},
		{"name without equals", "a", "a="},
		{"empty pieces skipped", "a=1&&b=2&", "a=1&b=2"},
		{"repeated names sorted by value", "a=2&a=1", "a=1&a=2"},
		{"byte order: 10 before 2", "filters.2.name=x&filters.10.name=y", "filters.10.name=y&filters.2.name=x"},
		{"name escaped", "a b=1", "a%20b=1"},
		{
			"JS SDK describeInstances with filters (docs/jdcloud.md, Canonical request)",
			"pageNumber=1&pageSize=10&filters.1.name=instanceName&filters.1.values.1=restore%20demo*&filters.1.values.2=a%2Fb%3Ac~d&filters.1.values.3=%E4%B8%AD%E6%96%87&filters.1.operator=like&filters.2.name=engine&filters.2.values.1=MySQL",
			"filters.1.name=instanceName&filters.1.operator=like&filters.1.values.1=restore%20demo%2A&filters.1.values.2=a%2Fb%3Ac~d&filters.1.values.3=%E4%B8%AD%E6%96%87&filters.2.name=engine&filters.2.values.1=MySQL&pageNumber=1&pageSize=10",
		},
		{
			"tag filters",
			"tagFilters.1.values.1=d%2F42&tagFilters.1.key=restoredesk",
			"tagFilters.1.key=restoredesk&tagFilters.1.values.1=d%2F42",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := canonicalQuery(tc.in)
			if got != tc.want {
				t.Errorf("canonicalQuery(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			// Canonical is a fixed point: what the client sends re-canonicalises to itself.
			if again := canonicalQuery(got); again != got {
				t.Errorf("canonicalQuery is not idempotent: %q → %q", got, again)
			}
		})
	}
}

func TestFlattenedQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		q    []queryPair
		want string
	}{
		{
			"filters with 1-based indexes, operator, spaces, *, /, :, ~, non-ASCII and empty values",
			appendFilters(appendPaging(nil, 1, 10), []Filter{
				{Name: "instanceName", Values: []string{"restore demo*", "a/b:c~d", "中文", ""}, Operator: "like"},
				{Name: "skipped, no values"},
				{Name: "engine", Values: []string{"SQL Server"}},
			}),
			"filters.1.name=instanceName&filters.1.operator=like&filters.1.values.1=restore%20demo%2A&filters.1.values.2=a%2Fb%3Ac~d&filters.1.values.3=%E4%B8%AD%E6%96%87&filters.1.values.4=&filters.2.name=engine&filters.2.values.1=SQL%20Server&pageNumber=1&pageSize=10",
		},
		{
			"tag filters, a key without values",
			appendTagFilters(nil, []TagFilter{{Key: "restoredesk", Values: []string{"dep/7", "x"}}, {Key: ""}, {Key: "team"}}),
			"tagFilters.1.key=restoredesk&tagFilters.1.values.1=dep%2F7&tagFilters.1.values.2=x&tagFilters.2.key=team",
		},
		{
			"ten filters sort in byte order, as every SDK sends them",
			appendFilters(nil, func() []Filter {
				var fs []Filter
				for i := range 10 {
					fs = append(fs, Filter{Name: string(rune('a' + i)), Values: []string{"v"}})
				}
				return fs
			}()),
			"filters.1.name=a&filters.1.values.1=v&filters.10.name=j&filters.10.values.1=v&filters.2.name=b&filters.2.values.1=v&" +
				"filters.3.name=c&filters.3.values.1=v&filters.4.name=d&filters.4.values.1=v&filters.5.name=e&filters.5.values.1=v&" +
				"filters.6.name=f&filters.6.values.1=v&filters.7.name=g&filters.7.values.1=v&filters.8.name=h&filters.8.values.1=v&" +
				"filters.9.name=i&filters.9.values.1=v",
		},
		{"no paging sent when zero", appendPaging(nil, 0, 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := encodeQuery(tc.q)
			if got != tc.want {
				t.Errorf("encodeQuery\n got %q\nwant %q", got, tc.want)
			}
			if c := canonicalQuery(got); c != got {
				t.Errorf("the wire query is not canonical: %q → %q", got, c)
			}
		})
	}
}

func TestCanonicalHeaderValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"application/json", "application/json"},
		{" blank", "blank"},
		{"  a   b  ", "a b"},
		{"\ta \t b\t", "a b"},
	} {
		if got := canonicalHeaderValue(tc.in); got != tc.want {
			t.Errorf("canonicalHeaderValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	t.Parallel()
	r, _ := http.NewRequest(http.MethodGet, "http://example.com:8081/x", nil)
	r.Header.Add("X-Multi", " a ")
	r.Header.Add("X-Multi", "b  c")
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"host", "example.com:8081", true},
		{"x-multi", "a,b c", true},
		{"x-missing", "", false},
	} {
		got, ok := headerValue(r, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("headerValue(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if r.Header.Values("X-Multi")[0] != " a " {
		t.Error("headerValue changed the request's header")
	}
}
