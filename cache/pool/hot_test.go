package pool

import (
	"testing"
)

// TestHotValueNeverOutlivesItsNode: a reader that holds a value in its
// hot tier serves it only while the node holds the same version. Another
// process's upload (invalidate, then set), its invalidation alone, and a
// node that stops answering each take the held value out of service.
func TestHotValueNeverOutlivesItsNode(t *testing.T) {
	fp := newFaultPools(t, 1)
	ctx := t.Context()
	read := func(origin string, version uint64) (string, uint64, bool) {
		t.Helper()
		v, ver, hit, err := fp.reader.GetOrLoad(ctx, "cat", loadOf(origin, version))
		if err != nil {
			t.Fatal(err)
		}
		return string(v), ver, hit
	}
	read("v1", 1)
	if v, _, hit := read("origin", 1); v != "v1" || !hit {
		t.Fatalf("second read: %q hit=%v, want v1 from the pool", v, hit)
	}
	if n := fp.reader.hot.e.Len(); n != 1 {
		t.Fatalf("hot tier holds %d values, want 1", n)
	}

	// Another process uploads v2 and caches it.
	if err := fp.writer.Invalidate(ctx, "cat", 2); err != nil {
		t.Fatal(err)
	}
	fp.writer.Set(ctx, "cat", 2, []byte("v2"))
	if v, ver, hit := read("origin", 2); v != "v2" || ver != 2 || !hit {
		t.Fatalf("after another process's upload: %q v%d hit=%v, want v2 from the pool", v, ver, hit)
	}
	if v, _, hit := read("origin", 2); v != "v2" || !hit {
		t.Fatalf("v2 again: %q hit=%v", v, hit)
	}

	// An upload of v3 whose value nobody has cached yet.
	if err := fp.writer.Invalidate(ctx, "cat", 3); err != nil {
		t.Fatal(err)
	}
	if v, _, hit := read("v3", 3); v != "v3" || hit {
		t.Fatalf("after an invalidation: %q hit=%v, want v3 loaded from the origin", v, hit)
	}
	read("origin", 3) // v3 held again

	// A node that does not answer cannot vouch for what the tier holds.
	fp.owner("cat").freeze()
	if v, _, hit := read("from storage", 3); hit || v != "from storage" {
		t.Fatalf("with the node frozen: %q hit=%v, want a miss loaded from the origin", v, hit)
	}
}
