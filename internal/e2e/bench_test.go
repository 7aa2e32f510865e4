package e2e_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"restoredesk/internal/testkit"
)

// BenchmarkPages measures signed-in page throughput over loopback HTTP with
// parallel clients, next to the floor of this machine measured in the same
// run: Echo answering a constant string. Figures: requests/s and the share
// of the floor (pages/floor).
func BenchmarkPages(b *testing.B) {
	s := testkit.Start(b, testkit.Options{})
	s.GrantSeedOwnership(b, "payments")
	s.CreateUser(b, testkit.User{Username: "eng", Teams: map[string]bool{"payments": false}})
	s.CreateUser(b, testkit.User{Username: "lead", Teams: map[string]bool{"payments": true}})
	s.CreateUser(b, testkit.User{Username: "lead2", Teams: map[string]bool{"payments": true}})
	var id int64
	for range 60 {
		id = s.SubmitRequest(b, "eng", "payments", "mysql-payorders1")
	}
	s.Echo.GET("/bench-floor", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	cookies := s.SignInAs(b, "lead").Cookies()

	pages := []struct{ name, path string }{
		{"floor_constant_string", "/bench-floor"},
		{"request_page", "/requests/" + strconv.FormatInt(id, 10)},
		{"request_status_fragment", "/requests/" + strconv.FormatInt(id, 10) + "/status"},
		{"dashboard", "/"},
	}
	var floor float64
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			b.SetParallelism(16)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, s.URL+p.path, nil)
					for _, c := range cookies {
						req.AddCookie(c)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("%s: %d", p.path, resp.StatusCode)
						return
					}
				}
			})
			rps := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rps, "req/s")
			if p.name == "floor_constant_string" {
				floor = rps
			} else if floor > 0 {
				b.ReportMetric(rps/floor, "of_floor")
			}
		})
	}
}
