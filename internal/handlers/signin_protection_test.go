package handlers_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/identity"
	"restoredesk/internal/testkit"
)

// protectedServer is a server behind a trusted proxy (so tests choose the
// client address with X-Forwarded-For) whose throttle delays outlast any
// test: a block that starts stays for the rest of the test.
func protectedServer(t *testing.T, th identity.Throttle) *testkit.Server {
	t.Helper()
	cfg := testkit.IdentityConfig()
	if th == (identity.Throttle{}) {
		th = identity.Throttle{AccountFree: 5, AddrFree: 30, AccountCeiling: 10, DeviceFree: 3,
			Base: time.Hour, Max: time.Hour, Forget: 12 * time.Hour, AddrRefill: time.Hour}
	}
	cfg.Throttle = th
	return testkit.Start(t, testkit.Options{Identity: cfg, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

// signInFrom posts the sign-in form with c from address from.
func signInFrom(t *testing.T, s *testkit.Server, c *testkit.Client, from, username, password string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/signin",
		strings.NewReader(url.Values{"username": {username}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", from)
	resp, _ := c.Do(t, req)
	return resp.StatusCode
}

func allEvents(t *testing.T, s *testkit.Server) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestThrottledAttemptsAreCountedNotRecorded (finding 2): once a client is
// throttled, a thousand more attempts add at most a handful of audit events,
// whether the address bucket or an account key refuses them, and the count
// of refusals still reaches the audit trail.
func TestThrottledAttemptsAreCountedNotRecorded(t *testing.T) {
	t.Parallel()
	s := protectedServer(t, identity.Throttle{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	tests := []struct {
		name, from string
		username   func(i int) string
	}{
		{"address bucket (made-up usernames)", "203.0.113.10", func(i int) string { return fmt.Sprintf("nobody%d", i) }},
		{"account key (one account)", "203.0.113.11", func(int) string { return "alice" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.NewClient(t)
			i := 0
			for ; signInFrom(t, s, c, tt.from, tt.username(i), "wrong password!") != http.StatusTooManyRequests; i++ {
				if i > 100 {
					t.Fatal("never throttled")
				}
			}
			before := allEvents(t, s)
			for j := range 1000 {
				if code := signInFrom(t, s, c, tt.from, tt.username(i+j), "wrong password!"); code != http.StatusTooManyRequests {
					t.Fatalf("throttled attempt %d = %d, want 429", j, code)
				}
			}
			added := allEvents(t, s) - before
			if added > 5 {
				t.Errorf("1,000 throttled attempts added %d audit events, want at most 5", added)
			}
			t.Logf("1,000 throttled attempts added %d audit events", added)
		})
	}
	// The refusals are counted, not lost: flushing reports the address
	// buckets' counts, and the account key keeps its own.
	if err := s.Identity.FlushRefusals(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		var reported, counted int
		err := s.Pool.QueryRow(t.Context(), `SELECT coalesce(sum((details->>'refused')::int), 0) FROM audit_events
			WHERE action = 'auth.sign_in_refused' AND details->>'key' = 'addr:' || $1`, tt.from).Scan(&reported)
		if err != nil {
			t.Fatal(err)
		}
		s.Pool.QueryRow(t.Context(), `SELECT coalesce(sum(refused), 0) FROM sign_in_failures WHERE key LIKE '%|' || $1`, tt.from).Scan(&counted)
		if reported+counted < 1000 {
			t.Errorf("%s: %d refusals reported and %d counted, want the 1,000", tt.name, reported, counted)
		}
	}
}

// TestLongUserAgentStoredCut (finding 2): a 500 KB User-Agent is stored cut
// to clip.UserAgent bytes, in the audit trail and the sessions table.
func TestLongUserAgentStoredCut(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	ua := "Mozilla/5.0 " + strings.Repeat("é", 250_000) // 500 KB, every cut point inside a rune but one
	for _, password := range []string{"wrong password!", testkit.Password} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/signin",
			strings.NewReader(url.Values{"username": {"alice"}, "password": {password}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", ua)
		if resp, body := s.NewClient(t).Do(t, req); resp.StatusCode >= 500 {
			t.Fatalf("sign-in with a 500 KB user agent = %d: %.200s", resp.StatusCode, body)
		}
	}
	var events, longest int
	s.Pool.QueryRow(t.Context(), `SELECT count(*), coalesce(max(octet_length(user_agent)), 0) FROM audit_events
		WHERE action IN ('auth.sign_in', 'auth.sign_in_failed')`).Scan(&events, &longest)
	if events != 2 || longest > 500 || longest < 400 {
		t.Errorf("%d sign-in events with user agents up to %d bytes; want 2, cut to at most 500", events, longest)
	}
	var session int
	s.Pool.QueryRow(t.Context(), `SELECT coalesce(max(octet_length(user_agent)), 0) FROM sessions`).Scan(&session)
	if session > 500 || session < 400 {
		t.Errorf("session user agent is %d bytes, want cut to at most 500", session)
	}
}

// TestAccountCeilingAcrossAddresses (finding 3): 150 guesses at one account
// from 30 addresses (five each, under the per-address allowance) reach at
// most 20 password checks.
func TestAccountCeilingAcrossAddresses(t *testing.T) {
	t.Parallel()
	s := protectedServer(t, identity.Throttle{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	c := s.NewClient(t)
	for i := range 150 {
		from := fmt.Sprintf("198.51.100.%d", 1+i%30)
		if code := signInFrom(t, s, c, from, "alice", fmt.Sprintf("guess %d!", i)); code != 422 && code != 429 {
			t.Fatalf("guess %d = %d", i, code)
		}
	}
	var checked int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events
		WHERE action = 'auth.sign_in_failed' AND details->>'reason' = 'wrong_password'`).Scan(&checked)
	if checked > 20 || checked == 0 {
		t.Errorf("%d of 150 guesses had their password checked, want at most 20", checked)
	}
	t.Logf("%d of 150 guesses from 30 addresses had their password checked", checked)
	var blocked int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = 'auth.sign_in_blocked' AND details->>'scope' = 'account'`).Scan(&blocked)
	if blocked != 1 {
		t.Errorf("account ceiling blocks recorded: %d, want 1", blocked)
	}
}

// TestKnownDeviceSignsInDuringAttack (finding 4): while her address is
// flooded with made-up usernames and her account guessed at from many
// addresses, alice's browser (which signed in before) signs in at once
// with the right password; a stranger at the same address is held back,
// and the known device has a small allowance of its own.
func TestKnownDeviceSignsInDuringAttack(t *testing.T) {
	t.Parallel()
	s := protectedServer(t, identity.Throttle{})
	s.CreateUser(t, testkit.User{Username: "alice"})
	const office = "192.0.2.50"
	alice := s.NewClient(t)
	if code := signInFrom(t, s, alice, office, "alice", testkit.Password); code != http.StatusSeeOther {
		t.Fatalf("alice's first sign-in = %d", code)
	}
	attacker := s.NewClient(t)
	for i := range 60 { // the address bucket
		signInFrom(t, s, attacker, office, fmt.Sprintf("made-up-%d", i), "wrong password!")
	}
	for i := range 60 { // the account ceiling, from everywhere
		signInFrom(t, s, attacker, fmt.Sprintf("198.51.100.%d", i), "alice", "wrong password!")
	}
	if code := signInFrom(t, s, s.NewClient(t), office, "alice", testkit.Password); code != http.StatusTooManyRequests {
		t.Errorf("a stranger at the office with alice's password = %d, want 429 while under attack", code)
	}
	if code := signInFrom(t, s, alice, office, "alice", testkit.Password); code != http.StatusSeeOther {
		t.Errorf("alice's known device during the attack = %d, want 303", code)
	}
	// The device's own allowance: three failures, then it is held back too.
	var codes []int
	for range 5 {
		codes = append(codes, signInFrom(t, s, alice, office, "alice", "fat fingers!"))
	}
	if want := []int{422, 422, 422, 422, 429}; !equalInts(codes, want) {
		t.Errorf("wrong passwords from the known device: %v, want %v", codes, want)
	}
	// A device cookie vouches only for the accounts that signed in with it.
	if code := signInFrom(t, s, alice, office, "made-up-1", "wrong password!"); code != http.StatusTooManyRequests {
		t.Errorf("alice's device typing another username = %d, want the address's 429", code)
	}
}

// TestUnknownUsernameKeptOnlyAsHash (finding 9): a password typed into the
// username box is neither in the audit trail nor in the throttle table; the
// event keeps a keyed hash and the length.
func TestUnknownUsernameKeptOnlyAsHash(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	const typed = "Hunter2-is-my-password"
	if code := signInFrom(t, s, s.NewClient(t), "127.0.0.1", typed, "x"); code != http.StatusUnprocessableEntity {
		t.Fatalf("sign-in = %d", code)
	}
	var details string
	s.Pool.QueryRow(t.Context(), `SELECT details::text FROM audit_events WHERE action = 'auth.sign_in_failed'`).Scan(&details)
	if strings.Contains(strings.ToLower(details), "hunter2") || !strings.Contains(details, `"username_hash"`) ||
		!strings.Contains(details, fmt.Sprintf(`"username_length": %d`, len(typed))) {
		t.Errorf("auth.sign_in_failed details = %s; want only a hash and the length", details)
	}
	var plain int
	s.Pool.QueryRow(t.Context(), `SELECT count(*) FROM sign_in_failures WHERE lower(key) LIKE '%hunter2%'`).Scan(&plain)
	if plain != 0 {
		t.Error("the typed username is in sign_in_failures")
	}
}

// TestConcurrentSignInsFromOneAddress (finding 9): twenty people signing in
// at the same moment from one address (an office behind NAT) with their
// right passwords all get in, fifty times over.
func TestConcurrentSignInsFromOneAddress(t *testing.T) {
	t.Parallel()
	s := testkit.Start(t, testkit.Options{})
	const people = 20
	for i := range people {
		s.CreateUser(t, testkit.User{Username: fmt.Sprintf("user%02d", i)})
	}
	for round := range 50 {
		var wg sync.WaitGroup
		codes := make([]int, people)
		start := make(chan struct{})
		for i := range people {
			wg.Go(func() {
				<-start
				req, _ := http.NewRequest(http.MethodPost, s.URL+"/signin",
					strings.NewReader(url.Values{"username": {fmt.Sprintf("user%02d", i)}, "password": {testkit.Password}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Errorf("round %d user %d: %v", round, i, err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		for i, code := range codes {
			if code != http.StatusSeeOther {
				t.Fatalf("round %d: user%02d signing in = %d, want 303 (all: %v)", round, i, code, codes)
			}
		}
	}
}

// TestIPv6ClientsCountedByPrefix: addresses in one /64 share the address
// bucket (a client holds the whole /64), the next /64 has its own.
func TestIPv6ClientsCountedByPrefix(t *testing.T) {
	t.Parallel()
	s := protectedServer(t, identity.Throttle{AccountFree: 100, AddrFree: 5, AccountCeiling: 100, DeviceFree: 3,
		Base: time.Hour, Max: time.Hour, Forget: 12 * time.Hour, AddrRefill: time.Hour})
	c := s.NewClient(t)
	for i := range 5 { // five different addresses of one /64
		if code := signInFrom(t, s, c, fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("u%d", i), "wrong password!"); code != 422 {
			t.Fatalf("attempt %d = %d", i, code)
		}
	}
	if code := signInFrom(t, s, c, "2001:db8:1:2:ffff::1", "u9", "wrong password!"); code != http.StatusTooManyRequests {
		t.Errorf("sixth attempt from the same /64 = %d, want 429", code)
	}
	if code := signInFrom(t, s, c, "2001:db8:1:3::1", "u9", "wrong password!"); code != http.StatusUnprocessableEntity {
		t.Errorf("first attempt from the next /64 = %d, want 422", code)
	}
}
