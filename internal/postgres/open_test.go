package postgres_test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"restoredesk/internal/postgres"
	"restoredesk/internal/postgres/postgrestest"
)

// TestOpenWaitsForTheDatabase: start-up waits up to its timeout for a
// database that refuses connections at first (one starting beside the app),
// and gives up, naming the timeout, when it never answers.
func TestOpenWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	target, err := url.Parse(postgrestest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	// A port that refuses until the "database" comes up: then a forwarder
	// to the test database listens on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	late := *target
	late.Host = addr

	t.Run("never answers", func(t *testing.T) {
		start := time.Now()
		_, err := postgres.Open(t.Context(), late.String(), 700*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "within 700ms") {
			t.Fatalf("Open of a refusing port: %v, want a refusal naming the timeout", err)
		}
		if waited := time.Since(start); waited < 600*time.Millisecond {
			t.Errorf("gave up after %s, before its timeout", waited)
		}
	})

	t.Run("answers after a second", func(t *testing.T) {
		go func() {
			time.Sleep(time.Second)
			forward(t, addr, target.Host)
		}()
		pool, err := postgres.Open(t.Context(), late.String(), 20*time.Second)
		if err != nil {
			t.Fatalf("Open of a database that starts late: %v", err)
		}
		pool.Close()
	})
}

// forward listens on addr and copies every connection to and from target
// until the test ends.
func forward(t *testing.T, addr, target string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
}
