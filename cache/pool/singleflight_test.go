package pool

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadAfterUploadNeverJoinsAnOlderLoad: a read that starts after an
// upload was acknowledged must not share a load that read the origin
// before the upload; it gets the new image, not the replaced one.
func TestReadAfterUploadNeverJoinsAnOlderLoad(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	ctx := t.Context()
	var origin atomic.Pointer[string]
	old, replaced := "v1", "v2"
	origin.Store(&old)
	reading, release := make(chan struct{}), make(chan struct{})
	var slow sync.Once
	load := func(ctx context.Context) ([]byte, uint64, error) {
		v := *origin.Load()
		slow.Do(func() { close(reading); <-release }) // the first load stalls after its read
		if v == replaced {
			return []byte(v), 2, nil
		}
		return []byte(v), 1, nil
	}
	first := make(chan string, 1)
	go func() {
		v, _, _, _ := tp.GetOrLoad(ctx, "img", load)
		first <- string(v)
	}()
	<-reading
	// The upload: the origin moves to v2, the pool is invalidated, and the
	// upload is acknowledged. Only then does the second read start.
	origin.Store(&replaced)
	if err := tp.Invalidate(ctx, "img", 2); err != nil {
		t.Fatal(err)
	}
	second := make(chan string, 1)
	go func() {
		v, _, _, _ := tp.GetOrLoad(ctx, "img", load)
		second <- string(v)
	}()
	time.Sleep(50 * time.Millisecond) // let it find the stalled load
	close(release)
	if got := <-first; got != old {
		t.Errorf("the read that began before the upload got %q, want %q", got, old)
	}
	if got := <-second; got != replaced {
		t.Fatalf("a read that began after the upload was acknowledged got %q, want %q", got, replaced)
	}
	if v, _, hit, _ := tp.GetOrLoad(ctx, "img", load); string(v) != replaced || !hit {
		t.Fatalf("afterwards the pool serves %q (hit %v), want %q from the pool", v, hit, replaced)
	}
}

// TestLateCallersShareOneNextLoad: callers arriving while a load runs
// share one load after it, and one caller whose context ends while
// waiting leaves the others unharmed.
func TestLateCallersShareOneNextLoad(t *testing.T) {
	var g flightGroup[int]
	var loads atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	go g.do(t.Context(), "k", func() (int, error) {
		loads.Add(1)
		close(started)
		<-release
		return 1, nil
	})
	<-started
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := g.do(cancelled, "k", func() (int, error) { return -1, nil }); err == nil {
		t.Error("a caller whose context ended got no error")
	}
	var wg sync.WaitGroup
	results := make(chan int, 50)
	for range 50 {
		wg.Go(func() {
			v, _, err := g.do(t.Context(), "k", func() (int, error) {
				loads.Add(1)
				return 2, nil
			})
			if err != nil {
				t.Error(err)
			}
			results <- v
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 2 {
			t.Fatalf("a late caller got %d, the result of a load that began before it asked", v)
		}
	}
	if n := loads.Load(); n != 2 {
		t.Fatalf("%d loads, want 2: the running one and one shared by the 50 late callers", n)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.flying) != 0 {
		t.Fatalf("%d flights left behind", len(g.flying))
	}
}
