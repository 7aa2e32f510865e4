package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SimState keeps the demo JD Cloud simulator's state in the jdcloudsim schema.
// It is the simulator's Persister in demo mode.
type SimState struct{ db DBTX }

// NewSimState returns the simulator state store on db.
func NewSimState(db DBTX) *SimState { return &SimState{db: db} }

// Load returns the saved state, or nil when nothing was saved yet.
func (s *SimState) Load(ctx context.Context) ([]byte, error) {
	var b []byte
	err := s.db.QueryRow(ctx, `SELECT state::text FROM jdcloudsim.state`).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load simulator state: %w", err)
	}
	return b, nil
}

// Save replaces the saved state.
func (s *SimState) Save(ctx context.Context, state []byte) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO jdcloudsim.state (state) VALUES ($1::jsonb)
		ON CONFLICT (singleton) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, string(state))
	if err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	return nil
}
