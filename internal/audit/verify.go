package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"restoredesk/internal/postgres"
)

// Checkpoint is a chain head seen earlier: event Count had hash Hash (hex).
// Kept somewhere the database's owner cannot edit, it catches a chain that was
// rewritten end to end, which verifies by itself.
type Checkpoint struct {
	Count int64
	Hash  string
}

func (c Checkpoint) String() string { return fmt.Sprintf("%d:%s", c.Count, c.Hash) }

// ParseCheckpoint reads "COUNT:HASH" as written by `web audit verify` and the
// "audit checkpoint" log line.
func ParseCheckpoint(s string) (Checkpoint, error) {
	count, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(count, 10, 64)
	if !ok || err != nil || n < 0 {
		return Checkpoint{}, fmt.Errorf("checkpoint %q: want COUNT:HASH, such as 1200:9f86d081…", s)
	}
	hash = strings.ToLower(hash)
	if b, err := hex.DecodeString(hash); err != nil || len(b) != 32 {
		return Checkpoint{}, fmt.Errorf("checkpoint %q: the hash must be 64 hex digits", s)
	}
	return Checkpoint{Count: n, Hash: hash}, nil
}

// Problem kinds, as Verify names them.
const (
	ContentChanged  = "content changed"
	LinkBroken      = "link broken"
	MissingSeq      = "missing sequence number"
	TimeOutOfOrder  = "time out of order"
	CheckpointFails = "checkpoint no longer matches"
)

// Problem is the first thing Verify found wrong.
type Problem struct {
	Seq        int64      // the event concerned (the checkpoint's count for CheckpointFails)
	Kind       string     // one of the kinds above
	Detail     string     // what exactly differs
	Checkpoint Checkpoint // for CheckpointFails: the checkpoint that failed
}

func (p *Problem) Error() string {
	if p.Kind == CheckpointFails {
		return fmt.Sprintf("checkpoint %s no longer matches: %s", p.Checkpoint, p.Detail)
	}
	return fmt.Sprintf("event %d: %s: %s", p.Seq, p.Kind, p.Detail)
}

// Verification is the outcome of Verify.
type Verification struct {
	Count   int64    // events walked (all of them when Problem is nil)
	Head    string   // hash of the last event walked, hex; GenesisHash for none
	Problem *Problem // nil when the chain (and the checkpoint) hold
}

// Verify walks the whole chain in seq order, streaming it (memory stays
// constant however long it is), and reports the first event whose sequence
// number, hash, link or time is wrong. With checkpoints it also checks that
// each still matches. A returned error means the walk itself failed (the
// database); a broken chain is reported in Verification.Problem.
func Verify(ctx context.Context, db postgres.DBTX, checkpoints ...Checkpoint) (Verification, error) {
	v := Verification{Head: hex.EncodeToString(GenesisHash())}
	// One statement sees one snapshot, so events committed during the walk
	// cannot make it inconsistent.
	var (
		prev   = GenesisHash()
		prevAt time.Time
		failed *Problem // the first checkpoint found not to match
	)
	errStop := errors.New("stop")
	err := scanEach(ctx, db, `SELECT `+rowColumns+` FROM audit_events ORDER BY seq`, nil, func(r *Row) error {
		if v.Problem = check(r, v.Count, prev, prevAt); v.Problem != nil {
			return errStop
		}
		v.Count, prev, prevAt = r.Seq, r.Hash, r.OccurredAt
		v.Head = hex.EncodeToString(r.Hash)
		for _, cp := range checkpoints {
			if cp.Count == r.Seq && cp.Hash != v.Head && failed == nil {
				// Walk on: a broken chain further down is the bigger news.
				failed = &Problem{Seq: cp.Count, Kind: CheckpointFails, Checkpoint: cp,
					Detail: fmt.Sprintf("event %d now has hash %s", cp.Count, v.Head)}
			}
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("verify audit chain: %w", err)
	}
	if failed != nil {
		v.Problem = failed
		return v, nil
	}
	// A checkpoint beyond the end means events were removed from the end
	// (or the whole chain replaced by a shorter one).
	for _, cp := range checkpoints {
		genesis := hex.EncodeToString(GenesisHash())
		switch {
		case cp.Count > v.Count:
			v.Problem = &Problem{Seq: cp.Count, Kind: CheckpointFails, Checkpoint: cp,
				Detail: fmt.Sprintf("the chain now holds only %d events", v.Count)}
		case cp.Count == 0 && cp.Hash != genesis:
			v.Problem = &Problem{Seq: 0, Kind: CheckpointFails, Checkpoint: cp,
				Detail: "the head of an empty chain is " + genesis}
		default:
			continue
		}
		return v, nil
	}
	return v, nil
}

// check compares one row with what the chain so far expects of it.
func check(r *Row, count int64, prev []byte, prevAt time.Time) *Problem {
	if want := count + 1; r.Seq != want {
		detail := fmt.Sprintf("the chain jumps from event %d to event %d", count, r.Seq)
		if count == 0 {
			detail = fmt.Sprintf("the chain starts at event %d", r.Seq)
		}
		return &Problem{Seq: want, Kind: MissingSeq, Detail: detail}
	}
	sum, err := r.ComputeHash()
	if err != nil {
		return &Problem{Seq: r.Seq, Kind: ContentChanged, Detail: err.Error()}
	}
	if !bytes.Equal(sum, r.Hash) {
		return &Problem{Seq: r.Seq, Kind: ContentChanged,
			Detail: fmt.Sprintf("stored hash %x, but its content hashes to %x", r.Hash, sum)}
	}
	if !bytes.Equal(r.PrevHash, prev) {
		return &Problem{Seq: r.Seq, Kind: LinkBroken,
			Detail: fmt.Sprintf("its prev_hash %x is not the hash of event %d (%x)", r.PrevHash, count, prev)}
	}
	if count > 0 && r.OccurredAt.Before(prevAt) {
		return &Problem{Seq: r.Seq, Kind: TimeOutOfOrder,
			Detail: fmt.Sprintf("%s is earlier than event %d's %s", r.OccurredAt.UTC().Format(TimeFormat),
				count, prevAt.UTC().Format(TimeFormat))}
	}
	return nil
}

// rowColumns are the columns of a Row, in scanDest's order.
const rowColumns = `seq, occurred_at, actor_id, actor_name, client_addr, user_agent, action,
	target_type, target_id, team_id, details, prev_hash, hash`

// scanDest returns scan destinations for rowColumns; details are read into
// *details as raw JSON text.
func (r *Row) scanDest(details *[]byte) []any {
	return []any{&r.Seq, &r.OccurredAt, &r.ActorID, &r.ActorName, &r.ClientAddr, &r.UserAgent, &r.Action,
		&r.TargetType, &r.TargetID, &r.TeamID, details, &r.PrevHash, &r.Hash}
}

// Head returns the number of events and the newest event's hash (hex), the
// pair a checkpoint records.
func Head(ctx context.Context, db postgres.DBTX) (Checkpoint, error) {
	var (
		seq  int64
		hash []byte
	)
	err := db.QueryRow(ctx, `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Checkpoint{Hash: hex.EncodeToString(GenesisHash())}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("read audit head: %w", err)
	}
	return Checkpoint{Count: seq, Hash: hex.EncodeToString(hash)}, nil
}
