package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store/storetest"
)

var settingsFixture = scaling.Settings{
	Mode: scaling.Auto,
	Rule: scaling.RuleTarget, // the target rule and its values are kept with the rest
	Policy: scaling.Policy{
		MaxMissRate: 0.7, MinMissRate: 0.25, ExpandRatio: 2, ShrinkRatio: 0.5, MinRequests: 20,
	},
	Target: scaling.Target{MissRate: 0.07, Hysteresis: 0.25},
}

func table(epoch uint64, members ...string) pool.Table {
	return pool.Table{
		Epoch:       epoch,
		Partitioner: "rendezvous",
		Members:     members,
		Config:      node.Config{Capacity: 64 << 20, Policy: "lru"},
		Updated:     time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC),
	}
}

func TestPoolTable(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, kind)
			db := storetest.Open(t, dsn)
			other := storetest.Open(t, dsn) // another process of the deployment

			if _, err := db.LoadTable(ctx); !errors.Is(err, pool.ErrNoTable) {
				t.Fatalf("LoadTable on a new database: err = %v, want pool.ErrNoTable", err)
			}
			t1 := table(1, "127.0.0.1:5100")
			if err := db.SwapTable(ctx, 0, t1); err != nil {
				t.Fatalf("SwapTable(0, epoch 1): %v", err)
			}
			if err := other.SwapTable(ctx, 0, table(1, "10.0.0.9:5100")); !errors.Is(err, pool.ErrEpochConflict) {
				t.Fatalf("second SwapTable(0, …): err = %v, want pool.ErrEpochConflict", err)
			}
			got, err := other.LoadTable(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(t1, got); diff != "" {
				t.Errorf("LoadTable from another handle (-want +got):\n%s", diff)
			}

			t2 := table(2, "127.0.0.1:5100", "127.0.0.1:5101")
			if err := other.SwapTable(ctx, 1, t2); err != nil {
				t.Fatalf("SwapTable(1, epoch 2): %v", err)
			}
			if err := db.SwapTable(ctx, 1, table(3)); !errors.Is(err, pool.ErrEpochConflict) {
				t.Errorf("SwapTable from a stale epoch: err = %v, want pool.ErrEpochConflict", err)
			}
			if err := db.SwapTable(ctx, 2, table(2)); err == nil || errors.Is(err, pool.ErrEpochConflict) {
				t.Errorf("SwapTable(2, epoch 2): err = %v, want a refusal that is not a conflict", err)
			}
			if got, err := db.LoadTable(ctx); err != nil || !cmp.Equal(t2, got) {
				t.Errorf("LoadTable = %+v, %v; want %+v", got, err, t2)
			}

			// Owners racing from the same epoch: exactly one wins.
			const n = 6
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					errs[i] = db.SwapTable(ctx, 2, table(3, fmt.Sprintf("10.0.0.%d:5100", i)))
				})
			}
			wg.Wait()
			won := -1
			for i, err := range errs {
				switch {
				case err == nil && won >= 0:
					t.Errorf("owners %d and %d both swapped from epoch 2", won, i)
				case err == nil:
					won = i
				case !errors.Is(err, pool.ErrEpochConflict):
					t.Errorf("owner %d: err = %v, want nil or pool.ErrEpochConflict", i, err)
				}
			}
			if won < 0 {
				t.Fatal("no owner swapped from epoch 2")
			}
			want := table(3, fmt.Sprintf("10.0.0.%d:5100", won))
			if got, err := other.LoadTable(ctx); err != nil || !cmp.Equal(want, got) {
				t.Errorf("LoadTable after the race = %+v, %v; want the winner's %+v", got, err, want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenDB(t, kind)
			if s, ok, err := db.LoadSettings(ctx); err != nil || ok {
				t.Fatalf("LoadSettings on a new database = %+v, %v, %v; want none", s, ok, err)
			}
			if err := db.SaveSettings(ctx, settingsFixture); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.LoadSettings(ctx)
			if err != nil || !ok {
				t.Fatalf("LoadSettings = %v, %v", ok, err)
			}
			if diff := cmp.Diff(settingsFixture, got); diff != "" {
				t.Errorf("LoadSettings (-want +got):\n%s", diff)
			}
			manual := scaling.Settings{Mode: scaling.Manual, Policy: settingsFixture.Policy}
			manual.Policy.MaxMissRate = 0.9
			if err := db.SaveSettings(ctx, manual); err != nil {
				t.Fatal(err)
			}
			got, _, err = db.LoadSettings(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(manual, got); diff != "" {
				t.Errorf("LoadSettings after a second save (-want +got):\n%s", diff)
			}
		})
	}
}
