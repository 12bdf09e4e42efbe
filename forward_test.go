package main

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/store/storetest"
)

// The split layout: a manager and galleries as separate run() calls (as
// separate processes would be) sharing one database. configure_cache on a
// gallery is handed to the manager through that database.

// splitLayout is a manager and its galleries on one database.
type splitLayout struct {
	manager   launched
	galleries []string // base URLs
	owner     []string // the flags of a process that owns the pool, beside its own
}

// startManager starts a manager of the layout, again.
func (s *splitLayout) startManager(t *testing.T) launched {
	return launch(t, "manager", []string{"manager"}, append([]string{"--addr", "127.0.0.1:0", "--password", "pw"}, s.owner...)...)
}

// startSplit starts a manager and n galleries on the database at dsn.
func startSplit(t *testing.T, dsn string, n int) *splitLayout {
	t.Helper()
	shared := []string{"--db", dsn, "--blobs", "file:" + t.TempDir() + "/blobs", "--node-token", "shared-token"}
	s := &splitLayout{owner: append([]string{"--nodes", "2", "--resize-settle", "300ms"}, shared...)}
	s.manager = s.startManager(t)
	for range n {
		g := launch(t, "gallery", []string{"gallery"}, append([]string{"--addr", "127.0.0.1:0"}, shared...)...)
		s.galleries = append(s.galleries, g.urls["gallery"])
	}
	return s
}

// configureCalls are configure_cache calls that change the pool, refuse
// parameters (alone, together, and against the stored thresholds) and
// read it, in an order where each depends on the ones before.
var configureCalls = []string{
	"numNodes=3",
	"cacheSize=8&policy=RR",
	"",
	"mode=auto&maxMiss=0.6&minMiss=0.3&expRatio=3&shrinkRatio=0.25",
	"maxMiss=0.2",
	"minMiss=0.7&shrinkRatio=1.5",
	"numNodes=9",
	"numNodes=two&policy=MRU&maxMiss=x",
	"mode=sometimes",
	"cacheSize=-1&numNodes=0",
	"mode=manual&numNodes=1&cacheSize=0&policy=sieve",
	"numNodes=4&maxMiss=0.9",
	"",
}

// TestGalleryConfiguresLikeDev: configure_cache on a gallery of the split
// layout answers exactly what `picpool dev` answers for the same calls,
// refusals included, and the gallery's getNumNodes agrees with its answer
// at once; on SQLite and on PostgreSQL.
func TestGalleryConfiguresLikeDev(t *testing.T) {
	for _, kind := range []string{storetest.SQLite, storetest.Postgres} {
		t.Run(kind, func(t *testing.T) {
			split := startSplit(t, storetest.DSN(t, kind), 1)
			gallery := split.galleries[0]
			dev, _ := startDev(t)
			var devTook, galleryTook time.Duration
			for _, call := range configureCalls {
				start := time.Now()
				want := apiCall(t, dev, "/api/configure_cache?"+call, nil, nil)
				devTook += time.Since(start)
				start = time.Now()
				got := apiCall(t, gallery, "/api/configure_cache?"+call, nil, nil)
				galleryTook += time.Since(start)
				if got.status != want.status || got.raw != want.raw {
					t.Errorf("configure_cache?%s:\n gallery %v\n dev     %v", call, got, want)
				}
				want = apiCall(t, dev, "/api/getNumNodes", nil, nil)
				if got := apiCall(t, gallery, "/api/getNumNodes", nil, nil); got.raw != want.raw {
					t.Errorf("getNumNodes after configure_cache?%s: gallery %v, dev %v", call, got, want)
				}
			}
			t.Logf("%d calls: dev %s, gallery (through the manager) %s", len(configureCalls), devTook.Round(time.Millisecond), galleryTook.Round(time.Millisecond))
			// The form body is read the same way as the query.
			form := map[string]string{"numNodes": "2", "policy": "lru"}
			want := apiCall(t, dev, "/api/configure_cache", form, nil)
			if got := apiCall(t, gallery, "/api/configure_cache", form, nil); got.raw != want.raw {
				t.Errorf("configure_cache with a form: gallery %v, dev %v", got, want)
			}
		})
	}
}

// TestGalleryForwardingFaults: two galleries change the pool at once and
// both changes apply; with no manager running a change is withdrawn after
// 3 s with a 503 that says so, and is never applied later, not even by a
// manager that starts again afterwards.
func TestGalleryForwardingFaults(t *testing.T) {
	split := startSplit(t, storetest.DSN(t, storetest.SQLite), 2)
	g1, g2 := split.galleries[0], split.galleries[1]

	var wg sync.WaitGroup
	var r1, r2 apiResult
	var err1, err2 error
	wg.Go(func() { r1, err1 = apiPost(g1, "/api/configure_cache?numNodes=3", nil, nil) })
	wg.Go(func() { r2, err2 = apiPost(g2, "/api/configure_cache?cacheSize=16&policy=LRU", nil, nil) })
	wg.Wait()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if r1.status != 200 || r1.body["numNodes"] != 3.0 || r2.status != 200 || r2.body["cacheSize"] != 16.0 {
		t.Fatalf("two galleries at once: %v and %v, want both applied", r1, r2)
	}
	const both = `{"success":"true","mode":"manual","numNodes":3,"cacheSize":16,"policy":"LRU"}` + "\n"
	for _, g := range split.galleries {
		if r := apiCall(t, g, "/api/configure_cache", nil, nil); r.raw != both {
			t.Fatalf("after both changes a gallery reads %v, want %s", r, both)
		}
	}

	if err := split.manager.stop(); err != nil {
		t.Fatalf("stop the manager: %v", err)
	}
	start := time.Now()
	r := apiCall(t, g1, "/api/configure_cache?numNodes=1", nil, nil)
	took := time.Since(start)
	const noOwner = `{"success":"false","error":{"code":503,"message":"No manager took the change within 3s, so it was withdrawn and nothing was changed. Start the process that owns the cache pool (picpool manager) on this database, or send configure_cache to it."}}` + "\n"
	if r.raw != noOwner {
		t.Fatalf("configure_cache with no manager running: %v, want %s", r, noOwner)
	}
	if took < 3*time.Second || took > 6*time.Second {
		t.Errorf("the gallery answered after %s, want about 3 s", took)
	}
	// Invalid parameters need no manager.
	if r := apiCall(t, g1, "/api/configure_cache?numNodes=0", nil, nil); r.status != 400 {
		t.Errorf("an invalid change with no manager running: %v, want 400", r)
	}

	// A manager that starts again does not apply the withdrawn change.
	restarted := split.startManager(t)
	time.Sleep(time.Second) // it would pick a pending change up within 250 ms
	if r := apiCall(t, g1, "/api/configure_cache", nil, nil); r.raw != both {
		t.Fatalf("after the manager restarted a gallery reads %v, want %s", r, both)
	}
	if r := apiCall(t, g2, "/api/configure_cache?numNodes=2", nil, nil); r.status != 200 || r.body["numNodes"] != 2.0 {
		t.Fatalf("configure_cache through the restarted manager: %v", r)
	}
	if r := apiCall(t, g1, "/api/getNumNodes", nil, nil); r.raw != `{"success":"true","numNodes":2}`+"\n" {
		t.Fatalf("the other gallery after the change: %v", r)
	}

	// A standalone autoscaler owns the pool too, and answers in its place.
	if err := restarted.stop(); err != nil {
		t.Fatalf("stop the manager: %v", err)
	}
	auto := launch(t, "autoscaler", nil, split.owner...)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(auto.log.String(), "autoscaler running"); {
		if time.Now().After(deadline) {
			t.Fatalf("the autoscaler did not start in 30 s:\n%s", auto.log)
		}
		time.Sleep(20 * time.Millisecond) // it serves no URL that launch could wait for
	}
	if r := apiCall(t, g1, "/api/configure_cache?numNodes=1&policy=RR", nil, nil); r.raw != `{"success":"true","mode":"manual","numNodes":1,"cacheSize":16,"policy":"RR"}`+"\n" {
		t.Fatalf("configure_cache through a standalone autoscaler: %v", r)
	}
}
