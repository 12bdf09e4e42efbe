package pool

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// MemoryTableStore is a TableStore for a pool whose processes all share
// one address space: tests, and single-process setups without a database.
type MemoryTableStore struct {
	mu     sync.Mutex
	table  Table
	saved  bool
	fences Fences
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

// LoadFences returns the fences.
func (s *MemoryTableStore) LoadFences(ctx context.Context) (Fences, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fences
	f.Nodes = maps.Clone(f.Nodes)
	return f, nil
}

// RaiseFence adds one to node's fence.
func (s *MemoryTableStore) RaiseFence(ctx context.Context, node string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fences.Nodes == nil {
		s.fences.Nodes = map[string]uint64{}
	}
	s.fences.Nodes[node]++
	return nil
}

// RaiseGeneration adds one to the generation: what deleting every image
// does (in store, in the same transaction).
func (s *MemoryTableStore) RaiseGeneration() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fences.Generation++
}

func cloneTable(t Table) Table {
	t.Members = slices.Clone(t.Members)
	t.Previous = slices.Clone(t.Previous)
	return t
}
