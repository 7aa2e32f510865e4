package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// series counts the request series the metrics hold.
func series(t *testing.T, s *testkit.Server) (n int, labels []string) {
	t.Helper()
	families, err := s.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "restoredesk_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := ""
			for _, p := range m.GetLabel() {
				l += p.GetName() + "=" + p.GetValue() + " "
			}
			labels = append(labels, l)
		}
	}
	return len(labels), labels
}

// TestMetricsLabelsAreBounded (finding 7): 300 invented methods, and paths
// that match no route, add no series: methods outside HTTP's set are
// "other" and paths without a route are "unmatched".
func TestMetricsLabelsAreBounded(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	send := func(method, path string) {
		req, _ := http.NewRequest(method, s.URL+path, nil)
		s.Do(t, req)
	}
	// One of each first, so the series they belong to exist.
	send("INVENTED", "/signin")
	send("INVENTED", "/no-such-page")
	send(http.MethodGet, "/no-such-page")
	before, _ := series(t, s)
	for i := range 300 {
		send(fmt.Sprintf("M%03d", i), "/signin")
		send(fmt.Sprintf("M%03d", i), fmt.Sprintf("/no-such-page-%d", i))
		send(http.MethodGet, fmt.Sprintf("/no/such/page/%d", i))
	}
	after, labels := series(t, s)
	t.Logf("request series: %d before, %d after 900 requests with invented methods and paths", before, after)
	if after != before {
		t.Errorf("900 requests with invented methods and paths took the series from %d to %d:\n%v", before, after, labels)
	}
	for _, l := range labels {
		for _, bad := range []string{"M0", "no-such", "no/such"} {
			if strings.Contains(l, bad) {
				t.Errorf("a client's text became a label: %s", l)
			}
		}
	}
}
