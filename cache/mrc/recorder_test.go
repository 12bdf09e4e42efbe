package mrc

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/sim"
)

// fixedClock is a clock that stands still: the whole trace falls in one
// window.
func fixedClock() time.Time { return time.Unix(1_700_000_000, 0) }

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		msg  string
	}{
		{"unknown policy", Options{Policy: "mru"}, `policy "mru"`},
		{"negative capacity", Options{Capacity: -1}, "must not be negative"},
		{"negative window", Options{Window: -time.Second}, "must not be negative"},
		{"negative sub-windows", Options{SubWindows: -1}, "must not be negative"},
		{"negative memory", Options{MaxMemory: -1}, "must not be negative"},
		{"window too short for its sub-windows", Options{Window: 5, SubWindows: 10}, "a window of 5ns cannot hold 10 sub-windows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if !errors.Is(err, ErrBadOptions) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("New(%+v) error = %v, want ErrBadOptions with %q", tt.opts, err, tt.msg)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	r, err := New(Options{Policy: "RR", Capacity: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Curve(); got.Policy != "random" || got.Requests != 0 || got.Points != nil {
		t.Errorf("a new Recorder's curve = %+v, want policy random, no requests, no points", got)
	}
	if r.Rate() != 1 || r.budget != (64<<20)/100 || r.win.span != 2*time.Minute || r.win.n != 5 {
		t.Errorf("rate %v, budget %d, sub-windows %d of %v; want 1, 1 %% of 64 MiB, 5 of 2m",
			r.Rate(), r.budget, r.win.n, r.win.span)
	}
	if r, _ := New(Options{}); r.policy != cache.DefaultPolicy || r.budget != MinCapacity/100 {
		t.Errorf("zero options: policy %q, budget %d; want %q, %d", r.policy, r.budget, cache.DefaultPolicy, MinCapacity/100)
	}
	if r, _ := New(Options{Capacity: 10 << 30}); r.budget != MaxMemoryCap {
		t.Errorf("10 GiB node: budget %d, want the cap %d", r.budget, MaxMemoryCap)
	}
}

// record feeds n requests over keys keys named prefix+number, 100 KB ± 10
// KB each (a key's size fixed), uniformly at random.
func record(r *Recorder, rnd *rand.Rand, prefix string, keys, n int) []sim.Request {
	trace := make([]sim.Request, n)
	for i := range trace {
		k := rnd.IntN(keys)
		trace[i] = sim.Request{Key: fmt.Sprintf("%s%04d", prefix, k), Size: 90_000 + k*500%20_000}
		r.Record(trace[i].Key, int64(trace[i].Size))
	}
	return trace
}

// TestWindowAgesOut checks that requests leave the curve once their
// sub-window is older than the window, and that the stack forgets keys
// not used within it.
func TestWindowAgesOut(t *testing.T) {
	for _, policy := range []string{"lru", "sieve"} {
		t.Run(policy, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := Options{Policy: policy, Capacity: 4 << 20, MaxMemory: 1 << 20, Seed: 3}
				r, err := New(opts) // 5 sub-windows of 2 minutes
				if err != nil {
					t.Fatal(err)
				}
				rnd := rand.New(rand.NewPCG(1, 1))
				record(r, rnd, "a", 2000, 1000) // t = 0
				time.Sleep(5 * time.Minute)
				r.Curve() // as the node publishes, every 5 s: the window moves on
				onlyB, _ := New(opts)
				b := record(r, rnd, "b", 60, 600)
				for _, q := range b {
					onlyB.Record(q.Key, int64(q.Size))
				}
				if got := r.Curve().Requests; got != 1600 {
					t.Fatalf("at 5 minutes: %d requests, want 1600", got)
				}
				time.Sleep(6 * time.Minute) // a's sub-window ([0, 2m)) is past the window
				got, want := r.Curve(), onlyB.Curve()
				if got.Requests != 600 {
					t.Errorf("at 11 minutes: %d requests, want b's 600", got.Requests)
				}
				// LRU distances after a's last use do not depend on a, so
				// the curve is b's alone; miniature caches still held some
				// of a's items when b came, as a node's cache would.
				if diff := cmp.Diff(want, got); policy == "lru" && diff != "" {
					t.Errorf("at 11 minutes, the curve is not b's alone (-b +got):\n%s", diff)
				}
				if s, ok := r.m.(*stack); ok && s.keys.count != 60 {
					t.Errorf("the stack follows %d keys at 11 minutes, want b's 60", s.keys.count)
				}
				time.Sleep(4 * time.Minute) // b's ([4m, 6m)) too
				if c := r.Curve(); c.Requests != 0 || c.Points != nil {
					t.Errorf("at 15 minutes: %d requests, %d points; want none", c.Requests, len(c.Points))
				}
			})
		})
	}
}

// TestRateFallsToStayInBound floods an lru Recorder with distinct keys:
// it samples fewer and stays within its bound.
func TestRateFallsToStayInBound(t *testing.T) {
	r, err := New(Options{Policy: "lru", Capacity: 1 << 30, MaxMemory: 64 << 10, Seed: 1, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100_000 {
		r.Record(fmt.Sprintf("img:%07d", i), 50_000)
		if i%1000 == 999 && r.Memory() > 64<<10 {
			t.Fatalf("after %d keys: Memory() = %d, over the bound of %d", i+1, r.Memory(), 64<<10)
		}
	}
	if r.Rate() > 1.0/32 || r.Rate() < 1.0/1024 {
		t.Errorf("rate %v after 100,000 distinct keys in 64 KiB, want about 1/64 to 1/256", r.Rate())
	}
	// No key came twice: the miss ratio is 1 everywhere, as estimated from
	// the sample of a few hundred keys or more (±5 %).
	if c := r.Curve(); c.Requests != 100_000 || math.Abs(c.MissRatio(1<<30)-1) > 0.05 {
		t.Errorf("curve: %d requests, miss ratio %v at 1 GiB; want 100000 and 1 ± 0.05", c.Requests, c.MissRatio(1<<30))
	}
}

// TestRateRisesAfterBurst: a burst of distinct keys (uploads, say) drives
// the rate down; once it has aged out, the rate climbs back and the curve
// of the small working set that follows is right again.
func TestRateRisesAfterBurst(t *testing.T) {
	for _, policy := range []string{"lru", "sieve"} {
		t.Run(policy, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, err := New(Options{Policy: policy, Capacity: 1 << 20, Seed: 2})
				if err != nil {
					t.Fatal(err)
				}
				rnd := rand.New(rand.NewPCG(2, 2))
				record(r, rnd, "up", 1<<30, 3000)
				// The stack follows every key it samples; miniature caches
				// hold what fits, so the burst costs them less.
				if policy == "lru" && r.Rate() > 1.0/8 {
					t.Fatalf("rate %v after 3000 distinct keys in a 1 MiB node's bound, want 1/8 or less", r.Rate())
				}
				var work []sim.Request
				for range 32 * 60 { // 32 minutes of 10 requests a second
					work = append(work, record(r, rnd, "img:", 40, 10)...)
					time.Sleep(time.Second)
				}
				if r.Rate() != 1 {
					t.Fatalf("rate %v after the burst aged out, want 1 (40 keys fit the bound)", r.Rate())
				}
				c := r.Curve()
				for _, mib := range []int64{1, 2, 3, 4, 5} {
					want := simulatedMissRatio(t, policy, mib<<20, work[len(work)/2:])
					if got := c.MissRatio(mib << 20); math.Abs(got-want) > 0.03 {
						t.Errorf("at %d MiB: curve %.3f, engine %.3f", mib, got, want)
					}
				}
			})
		})
	}
}

// TestRecordConcurrent records from several goroutines while curves are
// taken (run with -race), and counts every request.
func TestRecordConcurrent(t *testing.T) {
	for _, policy := range []string{"lru", "tinylfu"} {
		r, err := New(Options{Policy: policy, Capacity: 8 << 20, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				record(r, rand.New(rand.NewPCG(uint64(g), 9)), "k", 500, 5000)
			})
		}
		wg.Go(func() {
			for range 50 {
				r.Curve()
			}
		})
		wg.Wait()
		if got := r.Curve().Requests; got != 20_000 {
			t.Errorf("%s: %d requests counted, want 20000", policy, got)
		}
	}
}

// TestKeyCapBoundsMiniatureCaches: with memory to spare, miniature caches
// still sample no more than about miniSampleKeys keys (their CPU), while
// the stack, at a fraction of the cost per key, follows every key.
func TestKeyCapBoundsMiniatureCaches(t *testing.T) {
	trace, err := sim.ZipfTrace{Objects: 20_000, Requests: 100_000, S: 1.01, MinSize: 10_000, MaxSize: 1_000_000, Seed: 3}.Generate()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, q := range trace {
		keys[q.Key] = true
	}
	// The highest rate, a power of 2, that samples at most miniSampleKeys
	// of them: 1/4 for the 13,359 keys this trace requests.
	capped := 1.0
	for capped*float64(len(keys)) > miniSampleKeys {
		capped /= 2
	}
	for _, tt := range []struct {
		policy   string
		wantRate float64
	}{{"sieve", capped}, {"lru", 1}} {
		r, err := New(Options{Policy: tt.policy, Capacity: 1 << 30, Seed: 5, Now: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range trace {
			r.Record(q.Key, int64(q.Size))
		}
		t.Logf("%s: rate %v, %d bytes", tt.policy, r.Rate(), r.Memory())
		if r.Rate() != tt.wantRate {
			t.Errorf("%s: rate %v with %d keys and 2 MiB to spend, want %v", tt.policy, r.Rate(), len(keys), tt.wantRate)
		}
	}
}
