package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"restoredesk/internal/audit"
)

// cmdAudit runs `web audit verify [-checkpoint COUNT:HASH]...`.
func cmdAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: web audit verify [-checkpoint COUNT:HASH]...")
		if len(args) == 0 {
			return errors.New("audit: missing subcommand (verify)")
		}
		return fmt.Errorf("audit: unknown subcommand %q (want verify)", args[0])
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var checkpoints []audit.Checkpoint
	fs.Func("checkpoint", "also check that event `COUNT:HASH` still has that hash, as logged by an \"audit checkpoint\" line (repeatable)",
		func(s string) error {
			cp, err := audit.ParseCheckpoint(s)
			checkpoints = append(checkpoints, cp)
			return err
		})
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit verify: unexpected argument %q", fs.Arg(0))
	}
	pool, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	v, err := audit.Verify(ctx, pool, checkpoints...)
	if err != nil {
		return err
	}
	if v.Problem != nil {
		if v.Problem.Kind == audit.CheckpointFails {
			return fmt.Errorf("audit verify: %w (the chain itself is consistent: %d events, head %s; it was rewritten after the checkpoint)",
				v.Problem, v.Count, v.Head)
		}
		return fmt.Errorf("audit verify: %w", v.Problem)
	}
	fmt.Fprintf(stdout, "ok %d events, head %s\n", v.Count, v.Head)
	return nil
}
