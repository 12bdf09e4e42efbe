package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// forEachRequests runs fn once per database kind with n handles on one
// fresh database, as n processes would have, sharing a clock that starts
// at noon and moves only by advance.
func forEachRequests(t *testing.T, n int, fn func(t *testing.T, rs []*store.Requests, advance func(time.Duration))) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			dsn := storetest.DSN(t, kind)
			var offset atomic.Int64
			now := func() time.Time { return noon.Add(time.Duration(offset.Load())) }
			var rs []*store.Requests
			for range n {
				r := store.NewRequests(storetest.Open(t, dsn))
				r.SetClock(now)
				rs = append(rs, r)
			}
			fn(t, rs, func(d time.Duration) { offset.Add(int64(d)) })
		})
	}
}

func wantStatus(t *testing.T, r *store.Requests, id int64, want gallery.ForwardStatus) {
	t.Helper()
	got, err := r.Status(context.Background(), id)
	if err != nil {
		t.Fatalf("Status(%d): %v", id, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status(%d) (-want +got):\n%s", id, diff)
	}
}

// TestRequestLifecycle: a gallery submits, an owner claims, renews and
// answers; another owner cannot claim or answer it; a lease that runs out
// shows.
func TestRequestLifecycle(t *testing.T) {
	forEachRequests(t, 3, func(t *testing.T, rs []*store.Requests, advance func(time.Duration)) {
		ctx := context.Background()
		follower, owner, other := rs[0], rs[1], rs[2]

		id, err := follower.Submit(ctx, `{"numNodes":3}`, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, follower, id, gallery.ForwardStatus{State: gallery.ForwardPending})
		got, err := owner.Claim(ctx, "owner-a", 5*time.Second, 8)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]gallery.ForwardedChange{{ID: id, Change: `{"numNodes":3}`}}, got); diff != "" {
			t.Fatalf("Claim (-want +got):\n%s", diff)
		}
		if got, err := other.Claim(ctx, "owner-b", 5*time.Second, 8); err != nil || len(got) != 0 {
			t.Fatalf("a second owner's Claim = %v, %v; want nothing", got, err)
		}
		if ok, err := follower.Withdraw(ctx, id); err != nil || ok {
			t.Fatalf("Withdraw of a claimed request = %v, %v; want false", ok, err)
		}
		wantStatus(t, follower, id, gallery.ForwardStatus{State: gallery.ForwardClaimed})

		// The owner renews while it applies; when it stops, the lease
		// runs out.
		advance(4 * time.Second)
		if err := owner.Renew(ctx, "owner-a", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		advance(4 * time.Second)
		wantStatus(t, follower, id, gallery.ForwardStatus{State: gallery.ForwardClaimed})
		advance(2 * time.Second)
		wantStatus(t, follower, id, gallery.ForwardStatus{State: gallery.ForwardClaimed, LeaseLost: true})

		if err := other.Answer(ctx, "owner-b", id, "no"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Answer by an owner that did not claim it: %v, want ErrNotFound", err)
		}
		if err := owner.Answer(ctx, "owner-a", id, `{"status":200}`); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, follower, id, gallery.ForwardStatus{State: gallery.ForwardAnswered, Answer: `{"status":200}`})
		if err := owner.Answer(ctx, "owner-a", id, "again"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a second Answer: %v, want ErrNotFound", err)
		}
		if _, err := follower.Status(ctx, id+1000); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Status of no request: %v, want ErrNotFound", err)
		}
	})
}

// TestRequestWithdrawAndExpiry: a withdrawn request and one that expired
// (its submitter died before withdrawing it) are never claimed; old
// requests are pruned.
func TestRequestWithdrawAndExpiry(t *testing.T) {
	forEachRequests(t, 2, func(t *testing.T, rs []*store.Requests, advance func(time.Duration)) {
		ctx := context.Background()
		follower, owner := rs[0], rs[1]

		withdrawn, _ := follower.Submit(ctx, "withdrawn", 3*time.Second)
		if ok, err := follower.Withdraw(ctx, withdrawn); err != nil || !ok {
			t.Fatalf("Withdraw of a pending request = %v, %v; want true", ok, err)
		}
		if ok, err := follower.Withdraw(ctx, withdrawn); err != nil || ok {
			t.Fatalf("a second Withdraw = %v, %v; want false", ok, err)
		}
		expired, _ := follower.Submit(ctx, "expired", 3*time.Second)
		advance(2 * time.Second)
		live, _ := follower.Submit(ctx, "live", 3*time.Second)
		advance(1500 * time.Millisecond)
		got, err := owner.Claim(ctx, "owner", 5*time.Second, 8)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]gallery.ForwardedChange{{ID: live, Change: "live"}}, got); diff != "" {
			t.Fatalf("Claim (-want +got):\n%s", diff)
		}
		wantStatus(t, follower, withdrawn, gallery.ForwardStatus{State: gallery.ForwardWithdrawn})
		wantStatus(t, follower, expired, gallery.ForwardStatus{State: gallery.ForwardPending})

		advance(time.Hour)
		recent, _ := follower.Submit(ctx, "recent", 3*time.Second)
		if err := owner.Prune(ctx, noon.Add(time.Hour+2*time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{withdrawn, expired, live} {
			if _, err := follower.Status(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("request %d after the prune: %v, want ErrNotFound", id, err)
			}
		}
		wantStatus(t, follower, recent, gallery.ForwardStatus{State: gallery.ForwardPending})
	})
}

// TestRequestClaimRace: owners in several processes claim at once; each
// request goes to exactly one, and each owner's claims come oldest first.
func TestRequestClaimRace(t *testing.T) {
	forEachRequests(t, 4, func(t *testing.T, rs []*store.Requests, _ func(time.Duration)) {
		ctx := context.Background()
		const n = 24
		var ids []int64
		for i := range n {
			id, err := rs[0].Submit(ctx, fmt.Sprint(i), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		claims := make([][]gallery.ForwardedChange, len(rs))
		errs := make([]error, len(rs))
		var wg sync.WaitGroup
		for i, r := range rs {
			wg.Go(func() {
				for {
					got, err := r.Claim(ctx, fmt.Sprint("owner-", i), 5*time.Second, 5)
					if err != nil || len(got) == 0 {
						errs[i] = err
						return
					}
					claims[i] = append(claims[i], got...)
				}
			})
		}
		wg.Wait()
		seen := map[int64]int{}
		for i, cl := range claims {
			if errs[i] != nil {
				t.Errorf("owner %d: %v", i, errs[i])
			}
			for j, r := range cl {
				seen[r.ID]++
				if j > 0 && r.ID <= cl[j-1].ID {
					t.Errorf("owner %d claimed %d after %d", i, r.ID, cl[j-1].ID)
				}
			}
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Errorf("request %d claimed %d times, want once", id, seen[id])
			}
		}
	})
}
