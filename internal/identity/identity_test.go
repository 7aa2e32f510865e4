package identity_test

import (
	"errors"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"restoredesk/internal/audit"
	"restoredesk/internal/identity"
	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

func TestMain(m *testing.M) { os.Exit(postgrestest.Main(m)) }

var fast = identity.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var system = identity.Actor{Actor: audit.System, Via: "test"}

// TestProductionParameters pins what production hashes with and how long
// sessions live; lowering any of them must be a deliberate change here.
func TestProductionParameters(t *testing.T) {
	t.Parallel()
	want := identity.Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
	if identity.DefaultParams != want {
		t.Errorf("DefaultParams = %+v, want %+v", identity.DefaultParams, want)
	}
	svc := identity.New(nil, identity.Config{})
	if got := svc.Hasher().Params(); got != want {
		t.Errorf("a zero Config hashes with %+v, want the production parameters", got)
	}
	c := svc.Config()
	if c.IdleTimeout != 30*time.Minute || c.AbsoluteTimeout != 12*time.Hour {
		t.Errorf("session lifetimes = %v idle, %v absolute", c.IdleTimeout, c.AbsoluteTimeout)
	}
	if c.Throttle.Max <= 0 || c.Throttle.Max > time.Hour || c.Throttle.AccountFree < 1 {
		t.Errorf("throttle %+v: want capped delays after some free failures", c.Throttle)
	}
	if identity.MinPasswordLength != 12 {
		t.Errorf("MinPasswordLength = %d", identity.MinPasswordLength)
	}
}

func TestHashFormatAndVerify(t *testing.T) {
	t.Parallel()
	h := identity.NewHasher(fast)
	a, _ := h.Hash("correct horse battery staple")
	b, _ := h.Hash("correct horse battery staple")
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(a) {
		t.Fatalf("hash %q is not a PHC argon2id string with its parameters", a)
	}
	if a == b {
		t.Error("two hashes of one password are equal: no random salt")
	}
	if ok, rehash := h.Verify(a, "correct horse battery staple"); !ok || rehash {
		t.Errorf("Verify(right) = %v, %v", ok, rehash)
	}
	if ok, _ := h.Verify(a, "correct horse battery stapler"); ok {
		t.Error("Verify(wrong) = true")
	}
	for _, bad := range []string{"", "plain", strings.Replace(a, "argon2id", "argon2i", 1), a[:len(a)-4]} {
		if ok, _ := h.Verify(bad, "correct horse battery staple"); ok {
			t.Errorf("Verify(%q) = true", bad)
		}
	}
	// Parameters travel in the hash: a stronger hasher still verifies old
	// hashes, and asks for them to be replaced.
	stronger := identity.NewHasher(identity.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32})
	if ok, rehash := stronger.Verify(a, "correct horse battery staple"); !ok || !rehash {
		t.Errorf("stronger.Verify(old hash) = %v, %v; want true, true", ok, rehash)
	}
}

// TestValidatePassword is the weak-password table: length, the account's own
// texts, repeats and what the strength estimator finds easy, each refused
// with a message that says why; strong passwords of any script pass.
func TestValidatePassword(t *testing.T) {
	t.Parallel()
	personal := []string{"alice", "alice.ng@example.com", "Alice Ng"}
	tests := []struct {
		pw  string
		why string // a part of the message; "" when the password is accepted
	}{
		{"", "at least 12"},
		{"elevenchars", "at least 12"},
		{"aaaaaaaaaaaa", "repeating"},
		{"abababababab", "repeating"},
		{"密码密码密码密码密码密码", "repeating"},
		{"123456789012", "easy to guess"},
		{"password1234", "easy to guess"},
		{"qwertyuiopas", "easy to guess"},
		{"abcabcabcabc", "repeating"},
		{"abcdabcdabcd", "easy to guess"},
		{"aliceAlice2026", "username"},
		{"my name is alice ng", "username"},
		{"alice.ng@example.com", "username"},
		{"restoredesk123", "easy to guess"},
		{strings.Repeat("x", 1025), "at most 1024"},
		{"correct horse battery staple", ""},
		{"another long password", ""},
		{"ünïcödé pässwörd quïet", ""},
		{"密码是一句很长的中文句子", ""},
		{"j8#Lq2!vNw9z", ""},
	}
	for _, tt := range tests {
		got := identity.ValidatePassword(tt.pw, personal...)
		switch {
		case tt.why == "" && got != "":
			t.Errorf("ValidatePassword(%q) = %q, want accepted", tt.pw, got)
		case tt.why != "" && !strings.Contains(got, tt.why):
			t.Errorf("ValidatePassword(%q) = %q, want a message with %q", tt.pw, got, tt.why)
		}
	}
}

func TestThrottleDelays(t *testing.T) {
	t.Parallel()
	th := identity.Throttle{Base: time.Second, Max: 10 * time.Second}
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for n := 1; n <= len(want); n++ {
		if got := th.Delay(n, 3); got != want[n-1] {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want[n-1])
		}
	}
	if got := th.Delay(1000, 3); got != 10*time.Second {
		t.Errorf("Delay(1000) = %v: delays must stay capped", got)
	}
}

func TestRehashAtSignIn(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	old := identity.New(pool, identity.Config{Hash: fast})
	id, err := old.CreateUser(t.Context(), system, identity.NewUser{Username: "alice", Email: "a@example.com", Name: "Alice", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	raised := identity.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	svc := identity.New(pool, identity.Config{Hash: raised})
	if _, err := svc.SignIn(t.Context(), "alice", "correct horse battery", identity.Client{Addr: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	u, _ := postgres.New(pool).UserByID(t.Context(), id)
	if p, _, _, _ := identity.ParseHash(u.PasswordHash); p != raised {
		t.Errorf("after sign-in the hash has %+v, want the raised %+v", p, raised)
	}
}

// TestEveryFailureCostsAHash: an unknown user, a wrong password and a
// disabled account each spend one full argon2id computation (seen as its
// memory: 8 MiB here), so timing does not tell them apart. Not parallel, so
// no other test's allocations mix in.
func TestEveryFailureCostsAHash(t *testing.T) {
	pool := postgrestest.Pool(t)
	p := identity.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	svc := identity.New(pool, identity.Config{Hash: p, Throttle: identity.Throttle{AccountFree: 100, AddrFree: 100, Base: time.Millisecond, Max: time.Millisecond, Forget: time.Hour}})
	ctx := t.Context()
	if _, err := svc.CreateUser(ctx, system, identity.NewUser{Username: "alice", Email: "a@example.com", Name: "Alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	id, _ := svc.CreateUser(ctx, system, identity.NewUser{Username: "dan", Email: "d@example.com", Name: "Dan", Password: "correct horse battery"})
	svc.SetDisabled(ctx, system, id, true)
	svc.Hasher().VerifyDummy("warm up") // the dummy hash is made once, on first use
	for _, tt := range []struct{ name, user, pw string }{
		{"unknown user", "mallory", "correct horse battery"},
		{"wrong password", "alice", "not the password"},
		{"disabled", "dan", "correct horse battery"},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := svc.SignIn(ctx, tt.user, tt.pw, identity.Client{Addr: "192.0.2.9"})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, identity.ErrBadCredentials) {
			t.Errorf("%s: err = %v, want ErrBadCredentials", tt.name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got < uint64(p.Memory)*1024 {
			t.Errorf("%s: allocated %d bytes, less than one hash's %d KiB: no hash was computed", tt.name, got, p.Memory)
		}
	}
}

func TestCreateUserRefusesBadInputAndDuplicates(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	svc := identity.New(pool, identity.Config{Hash: fast})
	ctx := t.Context()
	good := identity.NewUser{Username: "Alice", Email: "alice@example.com", Name: "Alice", Password: "correct horse battery"}
	if _, err := svc.CreateUser(ctx, system, good); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		edit  func(*identity.NewUser)
		field string
	}{
		{"duplicate username (any case)", func(u *identity.NewUser) { u.Email = "other@example.com" }, "username"},
		{"duplicate e-mail (any case)", func(u *identity.NewUser) { u.Username = "alice2"; u.Email = "ALICE@example.com" }, "email"},
		{"short password", func(u *identity.NewUser) { u.Username = "bob"; u.Email = "b@example.com"; u.Password = "short" }, "password"},
		{"bad username", func(u *identity.NewUser) { u.Username = "bob smith"; u.Email = "b@example.com" }, "username"},
		{"bad e-mail", func(u *identity.NewUser) { u.Username = "bob"; u.Email = "bob" }, "email"},
		{"no name", func(u *identity.NewUser) { u.Username = "bob"; u.Email = "b@example.com"; u.Name = " " }, "name"},
	}
	for _, tt := range tests {
		u := good
		tt.edit(&u)
		_, err := svc.CreateUser(ctx, system, u)
		var fe identity.FieldErrors
		if !errors.As(err, &fe) || fe[tt.field] == "" {
			t.Errorf("%s: err = %v, want a %s field error", tt.name, err, tt.field)
		}
	}
	// The database holds the rules too, whatever the Go code does.
	for _, sql := range []string{
		`INSERT INTO users (username, email, display_name) VALUES ('Bad Name', 'x@example.com', 'X')`,
		`INSERT INTO users (username, email, display_name, password_hash) VALUES ('x', 'x@example.com', 'X', 'md5abc')`,
		`INSERT INTO teams (name) VALUES ('Payments Team')`,
		`INSERT INTO memberships (user_id, team_id) VALUES (999999, 999999)`,
	} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("the database accepted: %s", sql)
		}
	}
	var events int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'admin.user_created' AND details->>'via' = 'test' AND NOT details ? 'password'`).Scan(&events)
	if events != 1 {
		t.Errorf("admin.user_created events without a password = %d, want 1", events)
	}
}

func TestGrantsFromGroups(t *testing.T) {
	t.Parallel()
	g := identity.GrantsFromGroups([]string{"restoredesk:payments", "restoredesk:search:lead", "restoredesk:search",
		"restoredesk:auditor", "other:admin", "restoredesk:Bad Team", "restoredesk:admin:lead"})
	if !g.Auditor || g.Admin {
		t.Errorf("roles = admin %v auditor %v", g.Admin, g.Auditor)
	}
	if len(g.Teams) != 2 || g.Teams["payments"] || !g.Teams["search"] {
		t.Errorf("teams = %v, want payments member, search lead", g.Teams)
	}
}

// TestParallelGuessesAreThrottled: wrong passwords sent all at once, before
// any of them has failed, get no more tries than the throttle allows; the
// right password afterwards still works once the delay has passed.
func TestParallelGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	pool := postgrestest.Pool(t)
	th := identity.Throttle{AccountFree: 3, AddrFree: 100, Base: 300 * time.Millisecond, Max: 300 * time.Millisecond, Forget: time.Hour}
	svc := identity.New(pool, identity.Config{Hash: fast, Throttle: th})
	if _, err := svc.CreateUser(t.Context(), system, identity.NewUser{Username: "alice", Email: "a@example.com", Name: "Alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	client := identity.Client{Addr: "198.51.100.7"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	tried, throttled := 0, 0
	for range 30 {
		wg.Go(func() {
			_, err := svc.SignIn(t.Context(), "alice", "guess", client)
			mu.Lock()
			defer mu.Unlock()
			var te *identity.ThrottledError
			switch {
			case errors.Is(err, identity.ErrBadCredentials):
				tried++
			case errors.As(err, &te):
				throttled++
			default:
				t.Errorf("guess: %v", err)
			}
		})
	}
	wg.Wait()
	// Three free tries, and the fourth that starts the delay.
	if tried > th.AccountFree+1 || tried+throttled != 30 {
		t.Errorf("%d guesses were checked and %d throttled; want at most %d checked", tried, throttled, th.AccountFree+1)
	}
	time.Sleep(th.Max + 50*time.Millisecond)
	if _, err := svc.SignIn(t.Context(), "alice", "correct horse battery", client); err != nil {
		t.Errorf("after the delay the right password: %v", err)
	}
}
