// Command web is Restore Desk: the web server and worker, and the command line
// that migrates its database and administers it. main only wires things
// together; run holds everything so tests can call it with their own
// environment and streams.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "web:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: web [command]

commands:
  serve        run the web server and the background worker (default)
  worker       run only the background worker
  migrate      apply database migrations and exit
  user add -username U -email E -name N [-admin] [-auditor] [-password-stdin]
               create a local account (without -password-stdin a password is generated and printed once)
  user disable -username U
               disable an account and end its sessions
  team add -name T
               create a team
  team member add -team T -username U [-lead]
               add a user to a team, as member or lead
  jdcloud-sim  run the JD Cloud simulator [-addr 127.0.0.1:8081] [-build-time 5s] [fault flags]
  audit verify [-checkpoint COUNT:HASH]
               check the audit trail's hash chain (and an earlier checkpoint); print its head
`

// run dispatches to the subcommand named by args[0] ("serve" when absent).
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, args, getenv, stdout, stderr)
	case "worker":
		return cmdWorker(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args, getenv, stdout, stderr)
	case "user":
		return cmdUser(ctx, args, getenv, stdin, stdout, stderr)
	case "team":
		return cmdTeam(ctx, args, getenv, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, args, getenv, stdout, stderr)
	case "jdcloud-sim":
		return cmdJDCloudSim(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
