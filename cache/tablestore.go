package cache

import (
	"context"
	"slices"
	"sync"
)

// MemoryTableStore is a TableStore for a pool whose processes all share
// one address space: tests, and single-process setups without a database.
type MemoryTableStore struct {
	mu    sync.Mutex
	table Table
	saved bool
}

var _ TableStore = (*MemoryTableStore)(nil)

// LoadTable returns the latest table, or ErrNoTable.
func (s *MemoryTableStore) LoadTable(ctx context.Context) (Table, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.saved {
		return Table{}, ErrNoTable
	}
	return cloneTable(s.table), nil
}

// SwapTable stores t if the stored epoch is prevEpoch.
func (s *MemoryTableStore) SwapTable(ctx context.Context, prevEpoch uint64, t Table) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := uint64(0)
	if s.saved {
		cur = s.table.Epoch
	}
	if cur != prevEpoch {
		return ErrEpochConflict
	}
	s.table, s.saved = cloneTable(t), true
	return nil
}

func cloneTable(t Table) Table {
	t.Members = slices.Clone(t.Members)
	t.Previous = slices.Clone(t.Previous)
	return t
}
