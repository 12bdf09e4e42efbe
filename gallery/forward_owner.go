package gallery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// The owner's side of forwarding (see forward.go): the process that owns
// the pool takes the changes followers hand over, applies each with the
// Control behind its own API, and writes the answer back.

// ForwardInbox is what the pool's owner needs of the requests table.
type ForwardInbox interface {
	// Claim takes up to n changes that are waiting for an owner, oldest
	// first, each with a lease of lease.
	Claim(ctx context.Context, owner string, lease time.Duration, n int) ([]ForwardedChange, error)
	// Renew extends the lease of every change owner holds.
	Renew(ctx context.Context, owner string, lease time.Duration) error
	// Answer records the answer to a change owner holds.
	Answer(ctx context.Context, owner string, id int64, answer string) error
	// Prune deletes the changes submitted before the given time.
	Prune(ctx context.Context, before time.Time) error
}

// ForwardedChange is a change a follower handed over.
type ForwardedChange struct {
	ID     int64
	Change string
}

// InboxOptions configures ServeForwarded; zero fields take their defaults.
type InboxOptions struct {
	// Every is how often the owner looks for changes and renews its
	// leases. Default: 250 ms.
	Every time.Duration
	// Lease is how long a claim lasts unless renewed; a follower that sees
	// it run out says the owner stopped. Default: 5 s.
	Lease time.Duration
	// Keep is how long handed-over changes stay in the table. Default: 1 h.
	Keep time.Duration
}

// inboxDepth is how many taken changes may wait for their turn.
const inboxDepth = 16

// ServeForwarded applies the changes that followers hand over, one at a
// time in the order they were handed over, until ctx ends; then it
// returns nil. It is run by the process that owns the pool. Changes it
// took but had not started when ctx ends are answered "nothing was
// changed"; a database that does not answer is logged, once, and tried
// again every opts.Every.
func (c *Control) ServeForwarded(ctx context.Context, inbox ForwardInbox, opts InboxOptions) error {
	opts.Every = cmpOr(opts.Every, 250*time.Millisecond)
	opts.Lease = cmpOr(opts.Lease, 5*time.Second)
	opts.Keep = cmpOr(opts.Keep, time.Hour)
	b := make([]byte, 8)
	rand.Read(b)
	s := &inboxServer{control: c, inbox: inbox, opts: opts, owner: "owner-" + hex.EncodeToString(b),
		work: make(chan ForwardedChange, inboxDepth)}
	var wg sync.WaitGroup
	wg.Go(func() { s.apply(ctx) })
	s.poll(ctx)
	close(s.work)
	wg.Wait()
	return nil
}

// inboxServer is one run of ServeForwarded.
type inboxServer struct {
	control *Control
	inbox   ForwardInbox
	opts    InboxOptions
	owner   string // this run's name in the table: a restarted owner is another
	work    chan ForwardedChange
	held    atomic.Int64 // changes taken and not yet answered
	failing bool         // the last look at the table failed (logged once)
}

// poll takes changes and renews leases every opts.Every until ctx ends.
func (s *inboxServer) poll(ctx context.Context) {
	tick := time.NewTicker(s.opts.Every)
	defer tick.Stop()
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, s.opts.Lease/2)
		err := s.look(cctx)
		if time.Since(pruned) >= time.Minute {
			if perr := s.inbox.Prune(cctx, time.Now().Add(-s.opts.Keep)); perr == nil {
				pruned = time.Now()
			}
		}
		cancel()
		switch {
		case err != nil && !s.failing && ctx.Err() == nil:
			s.control.log.Warn("configure_cache from galleries: cannot read the requests table", "err", err)
		case err == nil && s.failing:
			s.control.log.Info("configure_cache from galleries: the requests table answers again")
		}
		s.failing = err != nil
	}
}

// look renews the leases of the changes held and takes new ones.
func (s *inboxServer) look(ctx context.Context) error {
	if s.held.Load() > 0 {
		if err := s.inbox.Renew(ctx, s.owner, s.opts.Lease); err != nil {
			return err
		}
	}
	free := cap(s.work) - len(s.work)
	if free == 0 {
		return nil
	}
	taken, err := s.inbox.Claim(ctx, s.owner, s.opts.Lease, free)
	for _, ch := range taken {
		s.held.Add(1)
		s.work <- ch
	}
	return err
}

// apply applies the changes taken, in order, and answers each.
func (s *inboxServer) apply(ctx context.Context) {
	for ch := range s.work {
		ans := s.control.answerForwarded(ctx, ch.Change)
		s.answer(ctx, ch.ID, ans)
		s.held.Add(-1)
	}
}

// answer writes an answer, trying again while the lease could still be
// renewed; a follower that stops waiting says what it knows.
func (s *inboxServer) answer(ctx context.Context, id int64, ans forwardAnswer) {
	body, err := json.Marshal(ans)
	if err != nil {
		s.control.log.Error("configure_cache from galleries: encode an answer", "request", id, "err", err)
		return
	}
	deadline := time.Now().Add(s.opts.Lease)
	ctx = context.WithoutCancel(ctx) // an answer is owed even while stopping
	for {
		actx, cancel := context.WithTimeout(ctx, s.opts.Lease/2)
		err := s.inbox.Answer(actx, s.owner, id, string(body))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.control.log.Warn("configure_cache from galleries: could not write an answer", "request", id, "code", ans.Code, "err", err)
			return
		}
		time.Sleep(s.opts.Every)
	}
}

// answerForwarded applies a handed-over change and returns the answer
// this process's own API would give.
func (c *Control) answerForwarded(ctx context.Context, body string) forwardAnswer {
	if ctx.Err() != nil {
		return forwardAnswer{Code: Unavailable, Message: "The manager stopped before applying the change; nothing was changed. Please try again in a moment."}
	}
	var ch Change
	if err := json.Unmarshal([]byte(body), &ch); err != nil {
		c.log.Warn("configure_cache from galleries: unreadable change", "err", err)
		return forwardAnswer{Code: Invalid, Message: "The manager could not read the change (do the gallery and the manager run the same version of picpool?); nothing was changed."}
	}
	st, err := c.Apply(ctx, ch)
	if err != nil && ctx.Err() != nil {
		c.log.Warn("configure_cache from galleries: stopped while applying a change", "err", err)
		return forwardAnswer{Code: Unavailable, Message: "The manager stopped while applying the change; part of it may have been applied. Check the pool with getNumNodes before trying again."}
	}
	if err != nil {
		code, msg := Describe(c.log, err)
		return forwardAnswer{Code: code, Message: msg}
	}
	return forwardAnswer{State: &st, Epoch: c.pool.Table().Epoch}
}
