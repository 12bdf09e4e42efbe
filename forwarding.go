package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/store"
)

// configure_cache on a process that follows the pool (a gallery) is handed
// to the process that owns it through the database they share: see
// handlers/forward.go. This file wires the requests table to both sides.

// requestQueue adapts store.Requests to handlers.ForwardQueue (the
// follower's side) and handlers.ForwardInbox (the owner's).
type requestQueue struct{ r *store.Requests }

var (
	_ handlers.ForwardQueue = requestQueue{}
	_ handlers.ForwardInbox = requestQueue{}
)

func (q requestQueue) Submit(ctx context.Context, change string, ttl time.Duration) (int64, error) {
	id, err := q.r.Submit(ctx, change, ttl)
	if errors.Is(err, store.ErrOutcomeUnknown) {
		return id, fmt.Errorf("%w: %w", handlers.ErrOutcomeUnknown, err)
	}
	return id, storeError(err)
}

func (q requestQueue) Status(ctx context.Context, id int64) (handlers.ForwardStatus, error) {
	st, err := q.r.Status(ctx, id)
	if err != nil {
		return handlers.ForwardStatus{}, storeError(err)
	}
	states := map[string]handlers.ForwardState{
		store.RequestPending: handlers.ForwardPending, store.RequestClaimed: handlers.ForwardClaimed,
		store.RequestAnswered: handlers.ForwardAnswered, store.RequestWithdrawn: handlers.ForwardWithdrawn,
	}
	state, ok := states[st.State]
	if !ok {
		return handlers.ForwardStatus{}, fmt.Errorf("request %d: unknown state %q", id, st.State)
	}
	return handlers.ForwardStatus{State: state, LeaseLost: st.LeaseLost, Answer: st.Answer}, nil
}

func (q requestQueue) Withdraw(ctx context.Context, id int64) (bool, error) {
	ok, err := q.r.Withdraw(ctx, id)
	return ok, storeError(err)
}

func (q requestQueue) Claim(ctx context.Context, owner string, lease time.Duration, n int) ([]handlers.ForwardedChange, error) {
	reqs, err := q.r.Claim(ctx, owner, lease, n)
	out := make([]handlers.ForwardedChange, len(reqs))
	for i, r := range reqs {
		out[i] = handlers.ForwardedChange{ID: r.ID, Change: r.Body}
	}
	return out, storeError(err)
}

func (q requestQueue) Renew(ctx context.Context, owner string, lease time.Duration) error {
	return storeError(q.r.Renew(ctx, owner, lease))
}

func (q requestQueue) Answer(ctx context.Context, owner string, id int64, answer string) error {
	return storeError(q.r.Answer(ctx, owner, id, answer))
}

func (q requestQueue) Prune(ctx context.Context, before time.Time) error {
	return storeError(q.r.Prune(ctx, before))
}

// forwardChanges makes this follower's test API hand configure_cache to
// the pool's owner, waiting up to wait for its answer.
func (s *system) forwardChanges(wait time.Duration) {
	s.configurer = handlers.NewForwarder(s.control, requestQueue{store.NewRequests(s.db)}, handlers.ForwardOptions{Wait: wait})
}

// serveForwarded is the owner's loop that applies the changes followers
// hand over (see forwardChanges); every process that owns the pool runs it.
func (s *system) serveForwarded(ctx context.Context) error {
	return s.control.ServeForwarded(ctx, requestQueue{store.NewRequests(s.db)}, handlers.InboxOptions{})
}
