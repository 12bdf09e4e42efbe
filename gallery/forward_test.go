package gallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/scaling"
)

// funcQueue is a ForwardQueue of func fields; each gets the time since
// the test started (synctest's clock).
type funcQueue struct {
	start    time.Time
	submit   func() (int64, error)
	status   func(since time.Duration) (ForwardStatus, error)
	withdraw func(since time.Duration) (bool, error)

	mu        sync.Mutex
	submits   int
	withdraws []time.Duration
}

func (q *funcQueue) Submit(context.Context, string, time.Duration) (int64, error) {
	q.mu.Lock()
	q.submits++
	q.mu.Unlock()
	if q.submit == nil {
		return 1, nil
	}
	return q.submit()
}

func (q *funcQueue) Status(context.Context, int64) (ForwardStatus, error) {
	return q.status(time.Since(q.start))
}

func (q *funcQueue) Withdraw(context.Context, int64) (bool, error) {
	since := time.Since(q.start)
	q.mu.Lock()
	q.withdraws = append(q.withdraws, since)
	q.mu.Unlock()
	if q.withdraw == nil {
		return true, nil
	}
	return q.withdraw(since)
}

// answered is the status of a change the owner answered with ans.
func answered(t *testing.T, ans forwardAnswer) ForwardStatus {
	t.Helper()
	b, err := json.Marshal(ans)
	if err != nil {
		t.Fatal(err)
	}
	return ForwardStatus{State: ForwardAnswered, Answer: string(b)}
}

// TestForwarderWaits: how a gallery's configure_cache ends for each way
// the owner and the database can behave while it waits, on synctest's
// clock.
func TestForwarderWaits(t *testing.T) {
	three := 3
	grow := Change{NumNodes: &three}
	owned := PoolState{Settings: scaling.Settings{Mode: scaling.Manual, Policy: scaling.DefaultPolicy()}, Nodes: 3, Config: lruConfig(16)}
	ok := forwardAnswer{State: &owned, Epoch: 0}
	down := fmt.Errorf("store: dial: %w", ErrUnavailable)
	const (
		nothing  = "Storage is unavailable right now; nothing was changed. Please try again in a moment."
		noOwner  = "No manager took the change within 3s, so it was withdrawn and nothing was changed. Start the process that owns the cache pool (picpool manager) on this database, or send configure_cache to it."
		lost     = "The manager took the change but stopped answering while applying it (it may have stopped or restarted); part of it may have been applied. Check the pool with getNumNodes before trying again."
		slow     = "The manager is still applying the change after 1m0s; it will finish on its own. Check the pool with getNumNodes before trying again."
		dbGone   = "Storage stopped answering while the change was with the manager; it may or may not have been applied. Check the pool with getNumNodes before trying again."
		garbled  = "The manager's answer could not be read (do the gallery and the manager run the same version of picpool?); the change may have been applied. Check the pool with getNumNodes before trying again."
		failures = "The number of nodes (numNodes) must be between 1 and 8; got 3."
	)
	tests := []struct {
		name      string
		submit    func() (int64, error)
		status    func(t *testing.T, since time.Duration) (ForwardStatus, error)
		withdraw  func(since time.Duration) (bool, error)
		wantCode  Code // 200: wantState
		wantMsg   string
		wantState PoolState
		wantAfter time.Duration // how long the answer took, within the poll interval
		withdrawn int           // Withdraw calls
	}{
		{
			name: "the owner answers",
			status: func(t *testing.T, since time.Duration) (ForwardStatus, error) {
				return at(t, since, 700*time.Millisecond, ok)
			},
			wantCode: 0, wantState: owned, wantAfter: 700 * time.Millisecond,
		},
		{
			name: "the owner refuses",
			status: func(t *testing.T, since time.Duration) (ForwardStatus, error) {
				return answered(t, forwardAnswer{Code: Invalid, Message: failures}), nil
			},
			wantCode: Invalid, wantMsg: failures, wantAfter: 100 * time.Millisecond,
		},
		{
			name: "the owner's answer makes no sense",
			status: func(t *testing.T, since time.Duration) (ForwardStatus, error) {
				return answered(t, forwardAnswer{}), nil
			},
			wantCode: Upstream, wantMsg: garbled, wantAfter: 100 * time.Millisecond,
		},
		{
			name: "no owner takes it",
			status: func(*testing.T, time.Duration) (ForwardStatus, error) {
				return ForwardStatus{State: ForwardPending}, nil
			},
			wantCode: Unavailable, wantMsg: noOwner, wantAfter: 3 * time.Second, withdrawn: 1,
		},
		{
			name: "an owner takes it as it is withdrawn",
			status: func(t *testing.T, since time.Duration) (ForwardStatus, error) {
				if since < 3500*time.Millisecond {
					return ForwardStatus{State: ForwardPending}, nil
				}
				return answered(t, ok), nil
			},
			withdraw: func(time.Duration) (bool, error) { return false, nil },
			wantCode: 0, wantState: owned, wantAfter: 3500 * time.Millisecond, withdrawn: 5,
		},
		{
			name: "the owner stops while applying",
			status: func(t *testing.T, since time.Duration) (ForwardStatus, error) {
				return ForwardStatus{State: ForwardClaimed, LeaseLost: since >= 6*time.Second}, nil
			},
			wantCode: Unavailable, wantMsg: lost, wantAfter: 6 * time.Second,
		},
		{
			name: "the owner takes too long",
			status: func(*testing.T, time.Duration) (ForwardStatus, error) {
				return ForwardStatus{State: ForwardClaimed}, nil
			},
			wantCode: Timeout, wantMsg: slow, wantAfter: time.Minute,
		},
		{
			name: "the database stops answering",
			status: func(*testing.T, time.Duration) (ForwardStatus, error) {
				return ForwardStatus{}, down
			},
			wantCode: Unavailable, wantMsg: dbGone, wantAfter: 5100 * time.Millisecond,
		},
		{
			name: "the database stops answering after the pickup time",
			status: func(_ *testing.T, since time.Duration) (ForwardStatus, error) {
				if since < 4*time.Second {
					return ForwardStatus{State: ForwardPending}, nil
				}
				return ForwardStatus{}, down
			},
			withdraw: func(since time.Duration) (bool, error) { return false, down },
			// Each good read of the status starts the grace again.
			wantCode: Unavailable, wantMsg: dbGone, wantAfter: 8900 * time.Millisecond, withdrawn: 10,
		},
		{
			name: "the database blinks",
			status: func(t *testing.T, since time.Duration) (ForwardStatus, error) {
				if since > time.Second && since < 4*time.Second {
					return ForwardStatus{}, down
				}
				return at(t, since, 5*time.Second, ok)
			},
			wantCode: 0, wantState: owned, wantAfter: 5 * time.Second,
		},
		{
			name:     "the change cannot be stored",
			submit:   func() (int64, error) { return 0, down },
			wantCode: Unavailable, wantMsg: nothing,
		},
		{
			name:   "the change's commit failed and it was not stored",
			submit: func() (int64, error) { return 7, fmt.Errorf("commit: %w", ErrOutcomeUnknown) },
			status: func(*testing.T, time.Duration) (ForwardStatus, error) {
				return ForwardStatus{}, fmt.Errorf("no row: %w", ErrNotFound)
			},
			wantCode: Unavailable, wantMsg: nothing, wantAfter: 100 * time.Millisecond,
		},
		{
			name:     "the change's commit failed but it was stored",
			submit:   func() (int64, error) { return 7, fmt.Errorf("commit: %w", ErrOutcomeUnknown) },
			status:   func(t *testing.T, since time.Duration) (ForwardStatus, error) { return at(t, since, time.Second, ok) },
			wantCode: 0, wantState: owned, wantAfter: time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := &funcQueue{start: time.Now(), submit: tt.submit, withdraw: tt.withdraw}
				q.status = func(since time.Duration) (ForwardStatus, error) { return tt.status(t, since) }
				f := NewForwarder(NewControl(funcPool{}, &memSettings{}, slog.New(slog.DiscardHandler)), q, ForwardOptions{})
				st, err := f.Apply(t.Context(), grow)
				took := time.Since(q.start)
				code, msg := Code(0), ""
				if err != nil {
					code, msg = Describe(f.log, err)
				}
				if code != tt.wantCode || msg != tt.wantMsg {
					t.Errorf("Apply = %d %q, want %d %q", code, msg, tt.wantCode, tt.wantMsg)
				}
				if diff := cmp.Diff(tt.wantState, st); code == 0 && diff != "" {
					t.Errorf("state (-want +got):\n%s", diff)
				}
				if took < tt.wantAfter || took > tt.wantAfter+100*time.Millisecond {
					t.Errorf("answered after %s, want %s", took, tt.wantAfter)
				}
				if len(q.withdraws) != tt.withdrawn {
					t.Errorf("Withdraw called at %v, want %d calls", q.withdraws, tt.withdrawn)
				}
			})
		})
	}
}

// at returns a change being applied before when, and ans from then on.
func at(t *testing.T, since, when time.Duration, ans forwardAnswer) (ForwardStatus, error) {
	if since < when {
		return ForwardStatus{State: ForwardClaimed}, nil
	}
	return answered(t, ans), nil
}

// TestForwarderAnswersItself: what needs no owner is answered without a
// round trip: a change that asks for nothing (it reads the state), and one
// the owner would refuse, against the shared settings.
func TestForwarderAnswersItself(t *testing.T) {
	settings := &memSettings{}
	settings.set(scaling.Settings{Mode: scaling.Auto, Policy: scaling.Policy{MaxMissRate: 0.6, MinMissRate: 0.3, ExpandRatio: 2, ShrinkRatio: 0.5}})
	q := &funcQueue{}
	f := NewForwarder(NewControl(funcPool{}, settings, slog.New(slog.DiscardHandler)), q, ForwardOptions{})
	st, err := f.Apply(t.Context(), Change{})
	want := PoolState{Settings: scaling.Settings{Mode: scaling.Auto, Policy: scaling.Policy{MaxMissRate: 0.6, MinMissRate: 0.3, ExpandRatio: 2, ShrinkRatio: 0.5}}.WithDefaults(), Nodes: 2, Config: lruConfig(16)}
	if diff := cmp.Diff(want, st); err != nil || diff != "" {
		t.Errorf("an empty change: %v, state (-want +got):\n%s", err, diff)
	}
	low, nine := 0.1, 9
	_, err = f.Apply(t.Context(), Change{MaxMiss: &low, NumNodes: &nine})
	code, msg := Describe(f.log, err)
	const refused = "The minimum miss rate (0.3) must be lower than the maximum miss rate (0.1). The number of nodes (numNodes) must be between 1 and 8; got 9."
	if code != Invalid || msg != refused {
		t.Errorf("an invalid change: %d %q, want Invalid %q", code, msg, refused)
	}
	if q.submits != 0 {
		t.Errorf("%d changes handed to the owner, want none", q.submits)
	}
}

// TestForwarderCallerLeaves: a caller that goes away before any owner
// took its change withdraws it.
func TestForwarderCallerLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &funcQueue{start: time.Now()}
		q.status = func(time.Duration) (ForwardStatus, error) { return ForwardStatus{State: ForwardPending}, nil }
		f := NewForwarder(NewControl(funcPool{}, &memSettings{}, slog.New(slog.DiscardHandler)), q, ForwardOptions{})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		three := 3
		if _, err := f.Apply(ctx, Change{NumNodes: &three}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Apply = %v, want the caller's context error", err)
		}
		if len(q.withdraws) != 1 || q.withdraws[0] != time.Second {
			t.Errorf("Withdraw called at %v, want once at 1s", q.withdraws)
		}
	})
}
