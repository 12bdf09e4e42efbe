package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/picpool/picpool/gallery"
)

// Requests is the pool_requests table (gallery's ForwardQueue and
// ForwardInbox), through which a process that
// follows the cache pool (a gallery) hands a change to the process that
// owns it (the manager, dev or a standalone autoscaler), and gets its
// answer back. The bodies and answers are opaque text to this package.
//
// A request is pending until an owner claims it, or until it expires: an
// expired request is never claimed, so a submitter that died cannot have
// its change applied long after. A claim holds a lease that the owner
// renews while it applies; a lease that runs out tells the submitter that
// the owner stopped. Times are compared on the processes' clocks, which
// must agree to well within the leases (NTP does).
//
// It is safe for concurrent use, by any number of processes.
type Requests struct {
	db  *DB
	now func() time.Time
}

// NewRequests returns the requests table of db.
func NewRequests(db *DB) *Requests { return &Requests{db: db, now: time.Now} }

// The states of a request, as the state column spells them.
const (
	requestPending   = "pending"   // waiting for an owner
	requestClaimed   = "claimed"   // an owner is applying it
	requestAnswered  = "answered"  // the owner's answer is in
	requestWithdrawn = "withdrawn" // its submitter took it back before any owner claimed it
)

// requestStates maps the state column to the domain's states.
var requestStates = map[string]gallery.ForwardState{
	requestPending: gallery.ForwardPending, requestClaimed: gallery.ForwardClaimed,
	requestAnswered: gallery.ForwardAnswered, requestWithdrawn: gallery.ForwardWithdrawn,
}

// requestRow is one row of pool_requests; times are Unix milliseconds.
type requestRow struct {
	bun.BaseModel `bun:"table:pool_requests"`

	ID      int64  `bun:"id,pk,autoincrement"`
	Body    string `bun:"body,notnull"`
	State   string `bun:"state,notnull"`
	Owner   string `bun:"owner,notnull"`
	Created int64  `bun:"created,notnull"`
	Expires int64  `bun:"expires,notnull"`
	Lease   int64  `bun:"lease,notnull"`
	Answer  string `bun:"answer,notnull"`
}

// Submit stores a pending request that owners may claim for ttl, and
// returns its id. When its commit failed, the error wraps
// ErrOutcomeUnknown and the id is still returned: the request may exist,
// and Status tells.
func (r *Requests) Submit(ctx context.Context, body string, ttl time.Duration) (int64, error) {
	now := r.now()
	row := requestRow{Body: body, State: requestPending, Created: now.UnixMilli(), Expires: now.Add(ttl).UnixMilli()}
	err := r.db.inTx(ctx, func(tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&row).Exec(ctx)
		return err
	})
	if errors.Is(err, ErrOutcomeUnknown) {
		return row.ID, fmt.Errorf("store: submit request %d: %w", row.ID, err)
	}
	if err != nil {
		return 0, fmt.Errorf("store: submit request: %w", err)
	}
	return row.ID, nil
}

// Status returns where request id stands, or an error wrapping
// ErrNotFound when there is no such request.
func (r *Requests) Status(ctx context.Context, id int64) (gallery.ForwardStatus, error) {
	row := requestRow{ID: id}
	if err := r.db.bun.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return gallery.ForwardStatus{}, fmt.Errorf("store: request %d: %w", id, ErrNotFound)
		}
		return gallery.ForwardStatus{}, fmt.Errorf("store: request %d: %w", id, r.db.conn.Scrub(err))
	}
	state, ok := requestStates[row.State]
	if !ok {
		return gallery.ForwardStatus{}, fmt.Errorf("store: request %d: unknown state %q", id, row.State)
	}
	return gallery.ForwardStatus{
		State: state, Answer: row.Answer,
		LeaseLost: row.State == requestClaimed && row.Lease < r.now().UnixMilli(),
	}, nil
}

// Withdraw takes back a pending request, so that no owner ever claims it.
// It reports false when the request was no longer pending (an owner
// claimed it first, or answered it).
func (r *Requests) Withdraw(ctx context.Context, id int64) (bool, error) {
	ok, err := r.update(ctx, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("? = ?", bun.Ident("state"), requestWithdrawn).
			Where("? = ?", bun.Ident("id"), id).
			Where("? = ?", bun.Ident("state"), requestPending)
	})
	if err != nil {
		return false, fmt.Errorf("store: withdraw request %d: %w", id, err)
	}
	return ok, nil
}

// Claim claims up to n pending requests that have not expired for owner,
// oldest first, each with a lease until lease from now. Owners racing for
// a request each claim it at most once between them.
func (r *Requests) Claim(ctx context.Context, owner string, lease time.Duration, n int) ([]gallery.ForwardedChange, error) {
	now := r.now()
	var rows []requestRow
	err := r.db.bun.NewSelect().Model(&rows).Column("id", "body").
		Where("? = ?", bun.Ident("state"), requestPending).
		Where("? > ?", bun.Ident("expires"), now.UnixMilli()).
		Order("id").Limit(int64(n)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: find pending requests: %w", r.db.conn.Scrub(err))
	}
	var claimed []gallery.ForwardedChange
	for _, row := range rows {
		// Only the update that still finds the request pending claims it.
		ok, err := r.update(ctx, func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Set("? = ?", bun.Ident("state"), requestClaimed).
				Set("? = ?", bun.Ident("owner"), owner).
				Set("? = ?", bun.Ident("lease"), now.Add(lease).UnixMilli()).
				Where("? = ?", bun.Ident("id"), row.ID).
				Where("? = ?", bun.Ident("state"), requestPending)
		})
		if err != nil {
			return claimed, fmt.Errorf("store: claim request %d: %w", row.ID, err)
		}
		if ok {
			claimed = append(claimed, gallery.ForwardedChange{ID: row.ID, Change: row.Body})
		}
	}
	return claimed, nil
}

// Renew extends the lease of every request that owner has claimed and
// not yet answered to lease from now.
func (r *Requests) Renew(ctx context.Context, owner string, lease time.Duration) error {
	_, err := r.update(ctx, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("? = ?", bun.Ident("lease"), r.now().Add(lease).UnixMilli()).
			Where("? = ?", bun.Ident("owner"), owner).
			Where("? = ?", bun.Ident("state"), requestClaimed)
	})
	if err != nil {
		return fmt.Errorf("store: renew the requests of %s: %w", owner, err)
	}
	return nil
}

// Answer records owner's answer to a request it claimed. It returns an
// error wrapping ErrNotFound when owner holds no such request (it was
// pruned).
func (r *Requests) Answer(ctx context.Context, owner string, id int64, answer string) error {
	ok, err := r.update(ctx, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("? = ?", bun.Ident("state"), requestAnswered).
			Set("? = ?", bun.Ident("answer"), answer).
			Where("? = ?", bun.Ident("id"), id).
			Where("? = ?", bun.Ident("owner"), owner).
			Where("? = ?", bun.Ident("state"), requestClaimed)
	})
	if err != nil {
		return fmt.Errorf("store: answer request %d: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("store: answer request %d: %s holds no such request: %w", id, owner, ErrNotFound)
	}
	return nil
}

// Prune deletes the requests submitted before the given time, whatever
// their state: nobody waits for them any more.
func (r *Requests) Prune(ctx context.Context, before time.Time) error {
	_, err := r.db.bun.NewDelete().Model((*requestRow)(nil)).
		Where("? < ?", bun.Ident("created"), before.UnixMilli()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: prune requests before %s: %w", before.UTC().Format(time.RFC3339), r.db.conn.Scrub(err))
	}
	return nil
}

// update runs one update of pool_requests in a transaction, run again
// after a deadlock (InnoDB locks index ranges that owners claiming at
// once can cross), and reports whether it changed exactly one row. Every
// update here changes the state or a time, so MySQL, which counts only
// rows that changed, counts the row.
func (r *Requests) update(ctx context.Context, build func(*bun.UpdateQuery) *bun.UpdateQuery) (bool, error) {
	var n int64
	err := r.db.inTx(ctx, func(tx bun.Tx) error {
		res, err := build(tx.NewUpdate().Model((*requestRow)(nil))).Exec(ctx)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

var (
	_ gallery.ForwardQueue = (*Requests)(nil)
	_ gallery.ForwardInbox = (*Requests)(nil)
)
