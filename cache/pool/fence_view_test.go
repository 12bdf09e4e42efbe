package pool

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCutOffReaderNeverServesAReplacedValue: a reader that cannot read the
// fences (its database connection is down) while another process replaces
// a value that a frozen node missed must not serve the old value once the
// node thaws. Serving hits from its last view would: the node still holds
// the old value in the namespace that view names.
func TestCutOffReaderNeverServesAReplacedValue(t *testing.T) {
	fp := newFaultPools(t, 1)
	ctx := t.Context()
	readerTables := &failingFences{MemoryTableStore: fp.tables}
	opts := fp.reader.opts
	opts.Tables = readerTables
	reader, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	if _, _, _, err := reader.GetOrLoad(ctx, "owl", loadOf("old", 1)); err != nil {
		t.Fatal(err)
	}
	if v, _, ok := reader.Get(ctx, "owl"); !ok || string(v) != "old" {
		t.Fatalf("Get before the fault = %q, %v; want a hit on %q", v, ok, "old")
	}
	node := fp.owner("owl")
	node.freeze()
	readerTables.set(true) // the reader loses its database; the writer does not
	if err := fp.writer.Invalidate(ctx, "owl", 2); err != nil {
		t.Fatalf("Invalidate with the node frozen: %v (want the node fenced)", err)
	}
	node.thaw()
	waitUp(t, reader, node)
	time.Sleep(testLease) // the reader's last view is now past its lease

	if v, _, ok := reader.Get(ctx, "owl"); ok {
		t.Fatalf("the cut-off reader served %q from the pool after the value was replaced", v)
	}
	down := errors.New("database down")
	v, _, hit, err := reader.GetOrLoad(ctx, "owl", func(context.Context) ([]byte, uint64, error) { return nil, 0, down })
	if !errors.Is(err, down) || hit {
		t.Fatalf("GetOrLoad while the reader's database is down = %q, hit %v, %v; want the load's error", v, hit, err)
	}
	v, _, hit, err = reader.GetOrLoad(ctx, "owl", loadOf("new", 2))
	if err != nil || hit || string(v) != "new" {
		t.Fatalf("GetOrLoad = %q, hit %v, %v; want %q loaded from storage", v, hit, err, "new")
	}

	readerTables.set(false) // back: the reader routes by the new fence and caches again
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, _, hit, _ := reader.GetOrLoad(ctx, "owl", loadOf("new", 2)); hit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reader did not cache again once its database answered")
		}
	}
}

// slowFences answers fence reads only after delay: a database under load.
type slowFences struct {
	*MemoryTableStore
	delay time.Duration
}

func (s slowFences) LoadFences(ctx context.Context) (Fences, error) {
	time.Sleep(s.delay)
	return s.MemoryTableStore.LoadFences(ctx)
}

// TestFenceReadSlowerThanTheLeaseIsNotUsed: a view of the fences whose read
// took longer than the lease may miss a raise already acknowledged, so a
// reader with only such views reads no node.
func TestFenceReadSlowerThanTheLeaseIsNotUsed(t *testing.T) {
	fp := newFaultPools(t, 1)
	ctx := t.Context()
	if _, _, _, err := fp.reader.GetOrLoad(ctx, "owl", loadOf("old", 1)); err != nil {
		t.Fatal(err)
	}
	opts := fp.reader.opts
	opts.Tables = slowFences{fp.tables, testLease + 50*time.Millisecond}
	slow, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if v, _, ok := slow.Get(ctx, "owl"); ok {
		t.Fatalf("a pool whose fence reads outlast the lease read %q from a node", v)
	}
	opts.Tables = slowFences{fp.tables, testLease / 5}
	quick, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()
	if v, _, ok := quick.Get(ctx, "owl"); !ok || string(v) != "old" {
		t.Fatalf("a pool whose fence reads fit the lease: Get = %q, %v; want a hit", v, ok)
	}
}
