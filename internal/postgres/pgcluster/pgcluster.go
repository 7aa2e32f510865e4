// Package pgcluster starts a private, throwaway PostgreSQL cluster from the
// machine's server binaries, for tests that need a database of their own or
// one they can stop and start again.
package pgcluster

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
)

// Cluster is a running (or stopped) private PostgreSQL cluster on loopback.
type Cluster struct {
	Dir    string // holds data/, the socket and server.log
	Port   int
	bindir string
	asUser string // "postgres" when run as root, else ""
}

// BinDir finds the PostgreSQL server binaries: $PG_BINDIR, the newest
// /usr/lib/postgresql/*/bin, or initdb on PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL server binaries not found: install the Debian package postgresql, or set PG_BINDIR")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// Start creates a cluster in a new temporary directory (on /dev/shm when it
// exists, which makes CREATE DATABASE fast) and starts it on a free port.
func Start() (*Cluster, error) {
	bindir, err := BinDir()
	if err != nil {
		return nil, err
	}
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "restoredesk-pg-")
	if err != nil {
		return nil, fmt.Errorf("cluster directory: %w", err)
	}
	c := &Cluster{Dir: dir, bindir: bindir}
	// initdb and postgres refuse to run as root; hand the directory to postgres.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("chown cluster directory: %w", err)
		}
		c.asUser = "postgres"
	}
	if err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.Port = port
	if err := c.StartServer(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// URL returns a pgx connection URL for database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// StartServer starts the server of an initialised cluster (again).
func (c *Cluster) StartServer() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB", c.Port, c.Dir)
	return c.run("pg_ctl", "-D", c.dataDir(), "-l", filepath.Join(c.Dir, "server.log"), "-w", "-t", "30", "-o", opts, "start")
}

// StopServer stops the server, keeping its data.
func (c *Cluster) StopServer() error {
	return c.run("pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop")
}

// Destroy stops the server and removes the cluster's directory.
func (c *Cluster) Destroy() error {
	_ = c.run("pg_ctl", "-D", c.dataDir(), "-m", "immediate", "-w", "stop")
	return os.RemoveAll(c.Dir)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) run(tool string, args ...string) error {
	name := filepath.Join(c.bindir, tool)
	if c.asUser != "" {
		args = append([]string{"-u", c.asUser, "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
