package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Requests is the pool_requests table, through which a process that
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

// The states of a request.
const (
	RequestPending   = "pending"   // waiting for an owner
	RequestClaimed   = "claimed"   // an owner is applying it
	RequestAnswered  = "answered"  // the owner's answer is in
	RequestWithdrawn = "withdrawn" // its submitter took it back before any owner claimed it
)

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
	row := requestRow{Body: body, State: RequestPending, Created: now.UnixMilli(), Expires: now.Add(ttl).UnixMilli()}
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

// RequestStatus is where a request stands.
type RequestStatus struct {
	State string
	// LeaseLost is true when the request is claimed but its owner has not
	// renewed the claim in time: it stopped, or cannot reach the database.
	LeaseLost bool
	// Answer is the owner's answer, once State is RequestAnswered.
	Answer string
}

// Status returns where request id stands, or an error wrapping
// ErrNotFound when there is no such request.
func (r *Requests) Status(ctx context.Context, id int64) (RequestStatus, error) {
	row := requestRow{ID: id}
	if err := r.db.bun.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return RequestStatus{}, fmt.Errorf("store: request %d: %w", id, ErrNotFound)
		}
		return RequestStatus{}, fmt.Errorf("store: request %d: %w", id, r.db.conn.Scrub(err))
	}
	st := RequestStatus{State: row.State, Answer: row.Answer}
	st.LeaseLost = row.State == RequestClaimed && row.Lease < r.now().UnixMilli()
	return st, nil
}

// Withdraw takes back a pending request, so that no owner ever claims it.
// It reports false when the request was no longer pending (an owner
// claimed it first, or answered it).
func (r *Requests) Withdraw(ctx context.Context, id int64) (bool, error) {
	ok, err := r.update(ctx, func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Set("? = ?", bun.Ident("state"), RequestWithdrawn).
			Where("? = ?", bun.Ident("id"), id).
			Where("? = ?", bun.Ident("state"), RequestPending)
	})
	if err != nil {
		return false, fmt.Errorf("store: withdraw request %d: %w", id, err)
	}
	return ok, nil
}

// Request is a claimed request.
type Request struct {
	ID   int64
	Body string
}

// Claim claims up to n pending requests that have not expired for owner,
// oldest first, each with a lease until lease from now. Owners racing for
// a request each claim it at most once between them.
func (r *Requests) Claim(ctx context.Context, owner string, lease time.Duration, n int) ([]Request, error) {
	now := r.now()
	var rows []requestRow
	err := r.db.bun.NewSelect().Model(&rows).Column("id", "body").
		Where("? = ?", bun.Ident("state"), RequestPending).
		Where("? > ?", bun.Ident("expires"), now.UnixMilli()).
		Order("id").Limit(int64(n)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: find pending requests: %w", r.db.conn.Scrub(err))
	}
	var claimed []Request
	for _, row := range rows {
		// Only the update that still finds the request pending claims it.
		ok, err := r.update(ctx, func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Set("? = ?", bun.Ident("state"), RequestClaimed).
				Set("? = ?", bun.Ident("owner"), owner).
				Set("? = ?", bun.Ident("lease"), now.Add(lease).UnixMilli()).
				Where("? = ?", bun.Ident("id"), row.ID).
				Where("? = ?", bun.Ident("state"), RequestPending)
		})
		if err != nil {
			return claimed, fmt.Errorf("store: claim request %d: %w", row.ID, err)
		}
		if ok {
			claimed = append(claimed, Request{ID: row.ID, Body: row.Body})
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
			Where("? = ?", bun.Ident("state"), RequestClaimed)
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
		return q.Set("? = ?", bun.Ident("state"), RequestAnswered).
			Set("? = ?", bun.Ident("answer"), answer).
			Where("? = ?", bun.Ident("id"), id).
			Where("? = ?", bun.Ident("owner"), owner).
			Where("? = ?", bun.Ident("state"), RequestClaimed)
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
