package gallery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/scaling"
)

// funcInbox is a ForwardInbox that hands out queued changes and records
// what the owner does, with synctest's clock.
type funcInbox struct {
	start    time.Time
	claimErr func(since time.Duration) error

	mu      sync.Mutex
	queue   []ForwardedChange
	renews  []time.Duration
	answers map[int64]forwardAnswer
	order   []int64
}

func newInbox(changes ...string) *funcInbox {
	in := &funcInbox{start: time.Now(), answers: map[int64]forwardAnswer{}}
	for i, c := range changes {
		in.queue = append(in.queue, ForwardedChange{ID: int64(i + 1), Change: c})
	}
	return in
}

func (in *funcInbox) Claim(_ context.Context, owner string, lease time.Duration, n int) ([]ForwardedChange, error) {
	if in.claimErr != nil {
		if err := in.claimErr(time.Since(in.start)); err != nil {
			return nil, err
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	n = min(n, len(in.queue))
	taken := in.queue[:n]
	in.queue = in.queue[n:]
	return taken, nil
}

func (in *funcInbox) Renew(context.Context, string, time.Duration) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.renews = append(in.renews, time.Since(in.start))
	return nil
}

func (in *funcInbox) Answer(_ context.Context, _ string, id int64, answer string) error {
	var a forwardAnswer
	if err := json.Unmarshal([]byte(answer), &a); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.answers[id] = a
	in.order = append(in.order, id)
	return nil
}

func (in *funcInbox) Prune(context.Context, time.Time) error { return nil }

// serve runs ServeForwarded until stopAfter, then stops it and waits.
func serve(t *testing.T, c *Control, in *funcInbox, stopAfter time.Duration) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- c.ServeForwarded(ctx, in, InboxOptions{}) }()
	time.Sleep(stopAfter)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeForwarded: %v", err)
	}
}

// TestServeForwardedAnswersAsTheAPI: the owner applies handed-over changes
// in order and answers each as configure_cache on its own API would.
func TestServeForwardedAnswersAsTheAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls []string
		pool := funcPool{
			resize:    func(_ context.Context, n int) error { calls = append(calls, "resize"); return nil },
			configure: func(cfg node.Config) error { calls = append(calls, "configure "+cfg.Policy); return nil },
		}
		c := NewControl(pool, &memSettings{}, slog.New(slog.DiscardHandler))
		in := newInbox(`{"numNodes":3}`, `{"maxMiss":0.1}`, `not json`, `{"cacheSize":8,"policy":"random"}`)
		serve(t, c, in, time.Second)

		state := PoolState{Settings: scaling.DefaultSettings(), Nodes: 2, Config: lruConfig(16)}
		want := map[int64]forwardAnswer{
			1: {State: &state},
			2: {Code: Invalid, Message: "The minimum miss rate (0.2) must be lower than the maximum miss rate (0.1)."},
			3: {Code: Invalid, Message: "The manager could not read the change (do the gallery and the manager run the same version of picpool?); nothing was changed."},
			4: {State: &state},
		}
		if diff := cmp.Diff(want, in.answers); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]int64{1, 2, 3, 4}, in.order); diff != "" {
			t.Errorf("answer order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"resize", "configure random"}, calls); diff != "" {
			t.Errorf("pool calls (-want +got):\n%s", diff)
		}
	})
}

// TestServeForwardedLeases: while the owner applies a change it renews
// its lease every 250 ms, and stops once it has answered.
func TestServeForwardedLeases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := funcPool{resize: func(context.Context, int) error { time.Sleep(10 * time.Second); return nil }}
		c := NewControl(pool, &memSettings{}, slog.New(slog.DiscardHandler))
		in := newInbox(`{"numNodes":3}`)
		serve(t, c, in, 20*time.Second)
		if len(in.answers) != 1 || in.answers[1].Code != 0 || in.answers[1].State == nil {
			t.Fatalf("answers %v, want one success", in.answers)
		}
		// Taken at 250 ms, answered at 10.25 s: renewed at 500 ms … 10.25 s.
		if n := len(in.renews); n < 39 || n > 41 {
			t.Errorf("%d renewals, want about 40", n)
		}
		if last := in.renews[len(in.renews)-1]; last > 10250*time.Millisecond {
			t.Errorf("renewed at %s, after the answer", last)
		}
	})
}

// TestServeForwardedStops: stopping while applying answers that the change
// may have partly applied; a change taken but not started is answered as
// not applied.
func TestServeForwardedStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := funcPool{resize: func(ctx context.Context, n int) error { <-ctx.Done(); return ctx.Err() }}
		c := NewControl(pool, &memSettings{}, slog.New(slog.DiscardHandler))
		in := newInbox(`{"numNodes":3}`, `{"numNodes":4}`)
		serve(t, c, in, time.Second)
		want := map[int64]forwardAnswer{
			1: {Code: Unavailable, Message: "The manager stopped while applying the change; part of it may have been applied. Check the pool with getNumNodes before trying again."},
			2: {Code: Unavailable, Message: "The manager stopped before applying the change; nothing was changed. Please try again in a moment."},
		}
		if diff := cmp.Diff(want, in.answers); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
	})
}

// TestServeForwardedTableDown: a requests table that does not answer is
// logged once, not every 250 ms, and its return too.
func TestServeForwardedTableDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer // read once ServeForwarded has returned
		c := NewControl(funcPool{}, &memSettings{}, slog.New(slog.NewTextHandler(&logs, nil)))
		in := newInbox()
		in.claimErr = func(since time.Duration) error {
			if since < 10*time.Second {
				return errors.New("connection refused")
			}
			return nil
		}
		serve(t, c, in, 20*time.Second)
		for msg, want := range map[string]int{"cannot read the requests table": 1, "the requests table answers again": 1} {
			if got := strings.Count(logs.String(), msg); got != want {
				t.Errorf("%q logged %d times, want %d:\n%s", msg, got, want, logs.String())
			}
		}
	})
}
