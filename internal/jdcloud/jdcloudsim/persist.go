package jdcloudsim

import (
	"context"
	"slices"
	"sync"
)

// Persister keeps the simulator's state (JSON) across restarts, so that demo mode's simulated
// instances survive them. The simulator calls Load once in New and Save after every change.
type Persister interface {
	// Load returns the saved state, or nil and no error when nothing was saved yet (the
	// simulator then seeds itself and saves).
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the saved state.
	Save(ctx context.Context, state []byte) error
}

// MemoryPersister keeps the state in memory: the default, for tests and a standalone
// simulator. Its zero value is ready to use; share one between two Sims to simulate a
// restart.
type MemoryPersister struct {
	mu    sync.Mutex
	state []byte
	saves int
}

// Load returns the last saved state, or nil.
func (m *MemoryPersister) Load(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.state), nil
}

// Save keeps a copy of state.
func (m *MemoryPersister) Save(_ context.Context, state []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = slices.Clone(state)
	m.saves++
	return nil
}

// Saves returns how many times Save was called.
func (m *MemoryPersister) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}
