package handlers_test

import (
	"compress/gzip"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"restoredesk/internal/testkit"
)

// TestCompression: pages and the streamed export are gzipped for a client
// that asks, and come plain to one that does not.
func TestCompression(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "ada", Auditor: true})
	auditor := s.SignInAs(t, "ada")
	for _, path := range []string{"/", "/audit", "/audit/export?format=csv"} {
		for _, enc := range []string{"gzip", ""} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
			req.Header.Set("Accept-Encoding", enc) // set by hand: the client then leaves the body as sent
			resp, body := auditor.Do(t, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s (Accept-Encoding %q): %d", path, enc, resp.StatusCode)
			}
			got := resp.Header.Get("Content-Encoding")
			if got != enc {
				t.Errorf("GET %s with Accept-Encoding %q: Content-Encoding %q", path, enc, got)
				continue
			}
			if enc == "gzip" {
				zr, err := gzip.NewReader(strings.NewReader(body))
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				body = string(b)
			}
			if strings.HasPrefix(path, "/audit/export") {
				if _, err := csv.NewReader(strings.NewReader(body)).ReadAll(); err != nil {
					t.Errorf("export with Accept-Encoding %q is not CSV: %v", enc, err)
				}
			} else if !strings.Contains(body, "</html>") {
				t.Errorf("GET %s with Accept-Encoding %q: not a whole page", path, enc)
			}
		}
	}
}
