package pool

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/nodekey"
)

// deriveTwo derives two values from an original, counting the makes.
func deriveTwo(makes *atomic.Int32, release <-chan struct{}) MakeFunc {
	return func(ctx context.Context, original []byte) (map[string][]byte, error) {
		makes.Add(1)
		if release != nil {
			<-release
		}
		return map[string][]byte{
			"thumb":   fmt.Appendf(nil, "thumb of %s", original),
			"display": fmt.Appendf(nil, "display of %s", original),
		}, nil
	}
}

// TestGetOrMakeOneMakePerOriginal: concurrent misses on both derived
// names of one key load the original once and make once; afterwards both
// names are hits.
func TestGetOrMakeOneMakePerOriginal(t *testing.T) {
	tp := newTestPool(t, 2, "", 1<<20)
	var loads, makes atomic.Int32
	load := func(ctx context.Context) ([]byte, uint64, error) {
		loads.Add(1)
		return []byte("orig"), 7, nil
	}
	release := make(chan struct{})
	build := deriveTwo(&makes, release)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		name := []string{"thumb", "display"}[i%2]
		wg.Go(func() {
			v, ver, _, err := tp.GetOrMake(t.Context(), "hot", name, load, build)
			if want := name + " of orig"; err != nil || string(v) != want || ver != 7 {
				errs <- fmt.Errorf("GetOrMake(%s) = %q v%d %v, want %q v7", name, v, ver, err, want)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let the callers pile up on the make
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if l, m := loads.Load(), makes.Load(); l != 1 || m != 1 {
		t.Fatalf("%d loads and %d makes for 100 concurrent misses, want 1 and 1", l, m)
	}
	for _, name := range []string{"thumb", "display"} {
		v, ver, hit, err := tp.GetOrMake(t.Context(), "hot", name, load, build)
		if err != nil || !hit || ver != 7 || string(v) != name+" of orig" {
			t.Errorf("second GetOrMake(%s) = %q v%d hit %v %v, want a hit", name, v, ver, hit, err)
		}
	}
	if _, _, _, err := tp.GetOrMake(t.Context(), "hot", "poster", load, build); err == nil {
		t.Error("GetOrMake of a name the make does not make: no error")
	}
}

// TestInvalidateTakesDerivedValues: an invalidation naming the derived
// values deletes them with the original, and a slow maker still holding
// the old original cannot put an old derived value back.
func TestInvalidateTakesDerivedValues(t *testing.T) {
	tp := newTestPool(t, 3, "", 1<<20)
	ctx := t.Context()
	var makes atomic.Int32
	orig := "v1"
	ver := uint64(1)
	load := func(ctx context.Context) ([]byte, uint64, error) { return []byte(orig), ver, nil }
	build := deriveTwo(&makes, nil)
	if v, _, _, err := tp.GetOrMake(ctx, "img", "thumb", load, build); err != nil || string(v) != "thumb of v1" {
		t.Fatalf("GetOrMake = %q %v", v, err)
	}
	orig, ver = "v2", 2 // the upload of v2 …
	if err := tp.Invalidate(ctx, "img", 2, "thumb", "display"); err != nil {
		t.Fatal(err)
	}
	// … and a maker that read v1 before it.
	if tp.setDerived(ctx, "img", "thumb", 1, []byte("thumb of v1")) {
		t.Error("a stale v1 thumbnail was stored after the invalidation at v2")
	}
	// The thumbnail's miss makes both again, from v2.
	for i, name := range []string{"thumb", "display"} {
		v, ver, hit, err := tp.GetOrMake(ctx, "img", name, load, build)
		if wantHit := i == 1; err != nil || hit != wantHit || ver != 2 || string(v) != name+" of v2" {
			t.Errorf("GetOrMake(%s) after the upload = %q v%d hit %v %v, want v2, hit %v", name, v, ver, hit, err, wantHit)
		}
	}
	if n := makes.Load(); n != 2 {
		t.Errorf("%d makes, want 2 (one per version)", n)
	}
	// An invalidation that names no derived values leaves them be.
	if err := tp.Invalidate(ctx, "img", 3); err != nil {
		t.Fatal(err)
	}
	if _, _, hit, _ := tp.GetOrMake(ctx, "img", "thumb", load, build); !hit {
		t.Error("Invalidate without names deleted a derived value")
	}
}

// setDerived puts a derived value as a maker does.
func (tp *testPool) setDerived(ctx context.Context, key, name string, version uint64, value []byte) bool {
	v := tp.view(ctx)
	return tp.set(ctx, v, nodekey.Of(key).Derived(name), version, value)
}
