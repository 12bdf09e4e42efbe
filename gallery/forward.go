package gallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A process that follows the pool (a gallery) cannot change it, but it
// shares the database with the process that owns it (the manager, dev or
// a standalone autoscaler). configure_cache on a gallery hands the change
// to the owner through a requests table there, waits for the owner's
// answer and gives it: the answer the owner gives its own API. This file
// is the follower's side; forward_owner.go is the owner's.

// ForwardQueue is what a follower needs of the requests table. Storage
// that does not answer is an error wrapping ErrUnavailable.
type ForwardQueue interface {
	// Submit stores a change that owners may take for ttl, and returns
	// its id. When the commit failed it returns the id and an error
	// wrapping ErrOutcomeUnknown: the change may have been stored.
	Submit(ctx context.Context, change string, ttl time.Duration) (int64, error)
	// Status returns where a change stands; ErrNotFound when there is no
	// such change.
	Status(ctx context.Context, id int64) (ForwardStatus, error)
	// Withdraw takes back a change no owner has taken, so that none ever
	// does; false when an owner took it first.
	Withdraw(ctx context.Context, id int64) (bool, error)
}

// ForwardState is where a handed-over change stands.
type ForwardState int

// The states of a handed-over change.
const (
	ForwardPending   ForwardState = iota // no owner has taken it yet
	ForwardClaimed                       // an owner is applying it
	ForwardAnswered                      // the owner's answer is in
	ForwardWithdrawn                     // taken back before any owner took it
)

// ForwardStatus is a handed-over change's state and, once answered, the
// owner's answer.
type ForwardStatus struct {
	State ForwardState
	// LeaseLost is true when the owner that took the change has stopped
	// renewing its claim: it stopped or restarted while applying it.
	LeaseLost bool
	Answer    string
}

// ForwardOptions configures a Forwarder; zero fields take their defaults.
type ForwardOptions struct {
	// Pickup is how long an owner has to take a change before it is
	// withdrawn. Owners look every 250 ms. Default: 3 s.
	Pickup time.Duration
	// Wait bounds the whole wait for the owner's answer, from the moment
	// the change is handed over (a resize that starts machines takes
	// minutes); at least Pickup. Default: 60 s.
	Wait time.Duration
	// Poll is how often the follower looks for the answer. Default: 100 ms.
	Poll time.Duration
	// StorageGrace is how long the database may fail to answer during the
	// wait before the follower gives up. Default: 5 s.
	StorageGrace time.Duration
}

// forwardCallTimeout bounds each of the follower's calls to the database.
const forwardCallTimeout = 2 * time.Second

// Configurer changes the pool's configuration: a Control where the pool
// is owned, a Forwarder where it is followed.
type Configurer interface {
	Apply(ctx context.Context, ch Change) (PoolState, error)
	Check(ctx context.Context, ch Change) (FieldErrors, error)
}

var (
	_ Configurer = (*Control)(nil)
	_ Configurer = (*Forwarder)(nil)
)

// Forwarder is the Configurer of a process that follows the pool: it
// checks a change itself (the settings are in the shared database), then
// hands it to the pool's owner and answers with the owner's answer.
type Forwarder struct {
	control *Control // over the followed pool and the shared settings
	queue   ForwardQueue
	opts    ForwardOptions
	log     *slog.Logger
}

// NewForwarder returns the Configurer of a follower whose control reads
// the followed pool and the shared settings.
func NewForwarder(control *Control, queue ForwardQueue, opts ForwardOptions) *Forwarder {
	opts.Pickup = cmpOr(opts.Pickup, 3*time.Second)
	opts.Wait = max(cmpOr(opts.Wait, 60*time.Second), opts.Pickup)
	opts.Poll = cmpOr(opts.Poll, 100*time.Millisecond)
	opts.StorageGrace = cmpOr(opts.StorageGrace, 5*time.Second)
	return &Forwarder{control: control, queue: queue, opts: opts, log: control.log}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Check checks a change against the shared settings, as the owner would.
func (f *Forwarder) Check(ctx context.Context, ch Change) (FieldErrors, error) {
	return f.control.Check(ctx, ch)
}

// Apply answers what the pool's owner answers for ch. A change that
// asks for nothing is answered here (it only reads), and so is one the
// owner would refuse as invalid: neither needs the owner.
func (f *Forwarder) Apply(ctx context.Context, ch Change) (PoolState, error) {
	if ch == (Change{}) {
		return f.control.State(ctx)
	}
	errs, err := f.control.Check(ctx, ch)
	if err != nil {
		return PoolState{}, err
	}
	if len(errs) > 0 {
		return PoolState{}, errs
	}
	body, err := json.Marshal(ch)
	if err != nil {
		return PoolState{}, fmt.Errorf("encode the change: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, forwardCallTimeout)
	id, err := f.queue.Submit(sctx, string(body), f.opts.Pickup)
	cancel()
	if err != nil && !errors.Is(err, ErrOutcomeUnknown) {
		return PoolState{}, fmt.Errorf("hand the change to the pool's owner: %w", storageError(err))
	}
	raw, err := f.await(ctx, id)
	if err != nil {
		return PoolState{}, err
	}
	var ans forwardAnswer
	err = json.Unmarshal([]byte(raw), &ans)
	switch {
	case err == nil && ans.Code == 0 && ans.State != nil:
		f.follow(ctx, ans.Epoch)
		return *ans.State, nil
	case err == nil && ans.Code != 0:
		return PoolState{}, &Error{Code: ans.Code, Message: ans.Message}
	}
	f.log.Error("configure_cache: unreadable answer from the owner", "request", id, "answer", raw, "err", err)
	return PoolState{}, Errorf(Upstream, "The manager's answer could not be read (do the gallery and the manager run the same version of picpool?); the change may have been applied. Check the pool with getNumNodes before trying again.")
}

// await polls for the owner's answer to change id and returns it, or an
// error that says what became of the change.
func (f *Forwarder) await(ctx context.Context, id int64) (string, error) {
	start := time.Now()
	var failing time.Time // since when the database has not answered
	// storageLost notes a failed call to the database: once calls have
	// failed for StorageGrace it returns the answer to give up with.
	storageLost := func(err error) error {
		if failing.IsZero() {
			failing = time.Now()
		}
		if time.Since(failing) < f.opts.StorageGrace {
			return nil // keep waiting
		}
		f.log.Warn("configure_cache: storage stopped answering while waiting for the owner", "request", id, "err", err)
		return Errorf(Unavailable, "Storage stopped answering while the change was with the manager; it may or may not have been applied. Check the pool with getNumNodes before trying again.")
	}
	tick := time.NewTicker(f.opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			f.abandon(id)
			return "", ctx.Err()
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, forwardCallTimeout)
		st, err := f.queue.Status(cctx, id)
		cancel()
		switch {
		case errors.Is(err, ErrNotFound):
			// Only a Submit whose commit failed gets here: it did not
			// take effect, so no owner will see the change.
			return "", fmt.Errorf("hand the change to the pool's owner: %w", ErrUnavailable)
		case err != nil:
			if lost := storageLost(err); lost != nil {
				return "", lost
			}
			continue
		}
		failing = time.Time{}
		waited := time.Since(start)
		switch st.State {
		case ForwardAnswered:
			return st.Answer, nil
		case ForwardWithdrawn:
			return "", noOwner(f.opts.Pickup)
		case ForwardClaimed:
			if st.LeaseLost {
				return "", Errorf(Unavailable, "The manager took the change but stopped answering while applying it (it may have stopped or restarted); part of it may have been applied. Check the pool with getNumNodes before trying again.")
			}
			if waited >= f.opts.Wait {
				return "", Errorf(Timeout, "The manager is still applying the change after %s; it will finish on its own. Check the pool with getNumNodes before trying again.", f.opts.Wait)
			}
		case ForwardPending:
			if waited < f.opts.Pickup {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, forwardCallTimeout)
			withdrawn, err := f.queue.Withdraw(wctx, id)
			cancel()
			if err != nil {
				if lost := storageLost(err); lost != nil {
					return "", lost
				}
			} else if withdrawn {
				return "", noOwner(f.opts.Pickup)
			}
			// Taken meanwhile: wait for the answer.
		}
	}
}

func noOwner(pickup time.Duration) error {
	return Errorf(Unavailable, "No manager took the change within %s, so it was withdrawn and nothing was changed. Start the process that owns the cache pool (picpool manager) on this database, or send configure_cache to it.", pickup)
}

// abandon withdraws a change whose caller went away, if no owner has
// taken it yet.
func (f *Forwarder) abandon(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), forwardCallTimeout)
	defer cancel()
	if _, err := f.queue.Withdraw(ctx, id); err != nil {
		f.log.Warn("configure_cache: could not withdraw an abandoned change", "request", id, "err", err)
	}
}

// followWait bounds follow: a follower reloads the table every second.
const followWait = 3 * time.Second

// follow waits, for followWait at most, until the followed pool routes by
// the table the owner left (epoch), so that what this process answers
// next (getNumNodes) agrees with the answer it gave.
func (f *Forwarder) follow(ctx context.Context, epoch uint64) {
	deadline := time.Now().Add(followWait)
	for f.control.pool.Table().Epoch < epoch {
		if time.Now().After(deadline) {
			f.log.Warn("configure_cache: the pool table did not reach this process in time", "want_epoch", epoch, "have", f.control.pool.Table().Epoch)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.opts.Poll):
		}
	}
}

// forwardAnswer is the owner's answer to a handed-over change: the kind
// of failure and the message its own API would answer with, or on success
// the pool's state and the epoch of the table that has it.
type forwardAnswer struct {
	Code    Code       `json:"code,omitempty"` // 0: success
	Message string     `json:"message,omitempty"`
	State   *PoolState `json:"state,omitempty"`
	Epoch   uint64     `json:"epoch,omitempty"`
}
