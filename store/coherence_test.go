package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/tcpproxy"
	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// TestDeleteAllKeepsUploadsOfAnotherProcess is the regression test of the
// review's lost upload: delete_all on the manager wiped the whole blob
// store while the gallery, another process, had written a blob and not yet
// committed its row, so that row pointed at nothing. Now DeleteAll deletes
// only the blobs of the rows it deleted: every row left has its bytes.
func TestDeleteAllKeepsUploadsOfAnotherProcess(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, kind)
			blobs, _ := storetest.FileBlobs(t)
			pages := store.NewLibrary(storetest.Open(t, dsn), blobs, nil)
			manager := store.NewLibrary(storetest.Open(t, dsn), blobs, nil)
			var wg sync.WaitGroup
			stop := make(chan struct{})
			errs := make(chan error, 4)
			for w := range 3 {
				wg.Go(func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						key := fmt.Sprintf("w%d-%d", w, i%20)
						if _, err := pages.Put(ctx, key, gallery.Content{Type: "image/png"}, []byte(key)); err != nil {
							errs <- fmt.Errorf("upload %s: %w", key, err)
							return
						}
					}
				})
			}
			for range 5 {
				time.Sleep(20 * time.Millisecond)
				if err := manager.DeleteAll(ctx); err != nil {
					t.Fatalf("DeleteAll: %v", err)
				}
			}
			close(stop)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			keys, err := pages.Keys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if _, data, err := pages.Load(ctx, k); err != nil || string(data) != k {
					t.Errorf("key %s has a row but not its bytes: %q, %v", k, data, err)
				}
			}
		})
	}
}

// TestDatabaseThatNeverAnswers: a database that accepts connections and
// then answers nothing makes every operation fail within the timeout,
// instead of hanging the request that waits on it.
func TestDatabaseThatNeverAnswers(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		if kind == storetest.SQLite {
			continue // a file: it cannot stop answering
		}
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, kind)
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			proxy := tcpproxy.Start(t, u.Host)
			u.Host = proxy.Addr()
			db := storetest.Open(t, u.String())
			const timeout = 300 * time.Millisecond
			db.SetTimeout(timeout)
			l := store.NewLibrary(db, nil, nil)
			proxy.Freeze()
			defer proxy.Thaw()
			for name, op := range map[string]func() error{
				"Stat":         func() error { _, err := l.Stat(ctx, "k"); return err },
				"Keys":         func() error { _, err := l.Keys(ctx); return err },
				"List":         func() error { _, _, err := l.List(ctx, gallery.ListOptions{}); return err },
				"LoadTable":    func() error { _, err := db.LoadTable(ctx); return err },
				"LoadSettings": func() error { _, _, err := db.LoadSettings(ctx); return err },
				"LoadFences":   func() error { _, err := db.LoadFences(ctx); return err },
				"RaiseFence":   func() error { return db.RaiseFence(ctx, "10.0.0.1:5100") },
				"DeleteAll":    func() error { return l.DeleteAll(ctx) },
			} {
				start := time.Now()
				err := op()
				if took := time.Since(start); err == nil || took > timeout+time.Second {
					t.Errorf("%s with the database frozen: %v after %v, want an error within %v", name, err, took, timeout)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Logf("%s: %v", name, err)
				}
			}
		})
	}
}
