package handlers

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/testimg"
	"github.com/picpool/picpool/photo"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/scaling"
)

// Tests of the JSON test API (/api): every route's exact success body and
// every failure of issue 4's list, over HTTP, on a real pool.

func okKey(key string) string { return jsonOf(map[string]string{"success": "true", "key": key}) }

func TestAPIUploadAccepts(t *testing.T) {
	tests := []struct {
		name, filename string
		data           func(t *testing.T) []byte
		contentType    string
	}{
		{"png", "a.png", func(t *testing.T) []byte { return testimg.PNG(t, 3, 2) }, "image/png"},
		{"jpeg", "a.jpg", func(t *testing.T) []byte { return testimg.JPEG(t) }, "image/jpeg"},
		{"gif", "a.gif", func(t *testing.T) []byte { return testimg.GIF(t) }, "image/gif"},
		{"webp", "a.webp", func(t *testing.T) []byte { return testimg.WebP() }, "image/webp"},
		// The content decides, not the name: a GIF called .png is a GIF.
		{"gif named png", "holiday.png", func(t *testing.T) []byte { return testimg.GIF(t) }, "image/gif"},
		{"png without a name", "", func(t *testing.T) []byte { return testimg.PNG(t, 1, 1) }, "image/png"},
		{"png exactly at the limit", "big.png", func(t *testing.T) []byte { return testimg.PaddedPNG(t, 64<<10) }, "image/png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{})
			srv := f.galleryServer(t, openAPI)
			data := tt.data(t)
			part := formPart{name: "file", filename: tt.filename, contentType: "image/png", data: data}
			if tt.filename == "" { // a plain field, not a file
				part = formPart{name: "file", data: data}
			}
			r := postMultipart(t, srv.URL+"/api/upload", []formPart{keyPart("k1"), part})
			checkJSON(t, r, http.StatusOK, okKey("k1"))
			row, ok := f.images.row("k1")
			if !ok {
				t.Fatal("nothing stored under k1")
			}
			if row.img.ContentType != tt.contentType || row.img.Size != int64(len(data)) || row.img.Version != 1 || string(row.data) != string(data) {
				t.Errorf("stored %+v (%d bytes), want %s, %d bytes, version 1, the same bytes", row.img, len(row.data), tt.contentType, len(data))
			}
		})
	}
}

// TestAPIUploadReplaces: a second upload under a key bumps its version and
// the cached copy of the first is never served again.
func TestAPIUploadReplaces(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	first, second := testimg.PNG(t, 1, 1), testimg.GIF(t)
	checkJSON(t, upload(t, srv.URL, "/api/upload", "k", first), http.StatusOK, okKey("k"))
	for range 2 { // a miss, then a hit: the first version is cached
		checkJSON(t, postForm(t, srv.URL+"/api/key/k", nil), http.StatusOK, contentJSON("k", first))
	}
	checkJSON(t, upload(t, srv.URL, "/api/upload", "k", second), http.StatusOK, okKey("k"))
	r := postForm(t, srv.URL+"/api/key/k", nil)
	checkJSON(t, r, http.StatusOK, contentJSON("k", second))
	if got := r.header.Get("X-Cache"); got != "MISS" {
		t.Errorf("X-Cache after a replacement: got %q, want MISS", got)
	}
	if row, _ := f.images.row("k"); row.img.Version != 2 || row.img.ContentType != "image/gif" {
		t.Errorf("stored %+v, want version 2, image/gif", row.img)
	}
}

func contentJSON(key string, data []byte) string {
	return jsonOf(map[string]string{"success": "true", "key": key, "content": base64.StdEncoding.EncodeToString(data)})
}

func TestAPIUploadRefusals(t *testing.T) {
	png := func(t *testing.T) []byte { return testimg.PNG(t, 2, 2) }
	tests := []struct {
		name  string
		parts func(t *testing.T) []formPart
		code  int
		msg   string
	}{
		{"missing key", func(t *testing.T) []formPart { return []formPart{filePart("a.png", png(t))} },
			400, "Please give the image a key."},
		{"empty key", func(t *testing.T) []formPart { return []formPart{keyPart(""), filePart("a.png", png(t))} },
			400, "Please give the image a key."},
		{"blank key", func(t *testing.T) []formPart { return []formPart{keyPart("   "), filePart("a.png", png(t))} },
			400, "Please give the image a key."},
		{"missing file", func(t *testing.T) []formPart { return []formPart{keyPart("k")} },
			400, "Please choose an image file to upload."},
		{"no field at all", func(t *testing.T) []formPart { return nil },
			400, "Please give the image a key."},
		{"empty file", func(t *testing.T) []formPart { return []formPart{keyPart("k"), filePart("a.png", nil)} },
			400, "The file is empty."},
		{"text", func(t *testing.T) []formPart {
			return []formPart{keyPart("k"), filePart("notes.png", []byte("just some words, not a picture\n"))}
		}, 415, "The file is not a PNG, JPEG, GIF or WebP image (it looks like text/plain)."},
		{"html", func(t *testing.T) []formPart {
			return []formPart{keyPart("k"), filePart("page.gif", []byte("<!DOCTYPE html><html><body>hi</body></html>"))}
		}, 415, "The file is not a PNG, JPEG, GIF or WebP image (it looks like text/html)."},
		{"truncated png header", func(t *testing.T) []formPart {
			return []formPart{keyPart("k"), filePart("cut.png", png(t)[:20])}
		}, 415, "The PNG image is damaged: the image data is cut short."},
		{"damaged gif header", func(t *testing.T) []formPart {
			return []formPart{keyPart("k"), filePart("cut.gif", []byte("GIF89a\x00"))}
		}, 415, "The GIF image is damaged: the image data is cut short."},
		{"one byte over the limit", func(t *testing.T) []formPart {
			return []formPart{keyPart("k"), filePart("big.png", testimg.PaddedPNG(t, 64<<10+1))}
		}, 413, "The file is larger than 64 KiB, the limit."},
		{"far over the limit", func(t *testing.T) []formPart {
			return []formPart{keyPart("k"), filePart("big.png", testimg.PaddedPNG(t, 64<<10+200<<10))}
		}, 413, "The file is larger than 64 KiB, the limit."},
		{"over the limit before the key", func(t *testing.T) []formPart {
			return []formPart{filePart("big.png", testimg.PaddedPNG(t, 64<<10+1)), keyPart("k")}
		}, 413, "The file is larger than 64 KiB, the limit."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{})
			srv := f.galleryServer(t, openAPI)
			r := postMultipart(t, srv.URL+"/api/upload", tt.parts(t))
			checkAPIError(t, r, tt.code, tt.msg)
			if keys := f.images.keys(); len(keys) != 0 {
				t.Errorf("stored %q after a refusal", keys)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		f := newFixture(t, setup{})
		srv := f.galleryServer(t, openAPI)
		r := postForm(t, srv.URL+"/api/upload", url.Values{"key": {"k"}, "file": {"x"}})
		checkAPIError(t, r, 400, "Send the upload as multipart/form-data with the fields key and file.")
		r = postForm(t, srv.URL+"/api/upload", nil)
		checkAPIError(t, r, 400, "Send the upload as multipart/form-data with the fields key and file.")
		if keys := f.images.keys(); len(keys) != 0 {
			t.Errorf("stored %q after a refusal", keys)
		}
	})
}

func TestAPIListKeys(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":[]}`)
	for _, k := range []string{"first", "second", "third"} {
		f.put(t, k, testimg.PNG(t, 1, 1))
	}
	checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":["third","second","first"]}`)
	f.put(t, "first", testimg.GIF(t)) // a replacement is the newest
	checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":["first","third","second"]}`)
}

func TestAPIKey(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	data := testimg.JPEG(t)
	f.put(t, "holiday", data)
	for i, wantCache := range []string{"MISS", "HIT", "HIT"} {
		r := postForm(t, srv.URL+"/api/key/holiday", nil)
		checkJSON(t, r, http.StatusOK, contentJSON("holiday", data))
		if got := r.header.Get("X-Cache"); got != wantCache {
			t.Errorf("request %d: X-Cache %q, want %q", i, got, wantCache)
		}
	}
	// The content decodes to the very bytes uploaded.
	r := postForm(t, srv.URL+"/api/key/holiday", nil)
	var body struct{ Content string }
	decodeInto(t, r, &body)
	if got, err := base64.StdEncoding.DecodeString(body.Content); err != nil || string(got) != string(data) {
		t.Errorf("content decodes to %d bytes (err %v), want the %d uploaded", len(got), err, len(data))
	}
	if got := f.totalItems(t); got != 1 {
		t.Errorf("the nodes hold %d items, want 1", got)
	}

	t.Run("unknown key", func(t *testing.T) {
		checkAPIError(t, postForm(t, srv.URL+"/api/key/nope", nil), 404, `No image is stored under the key "nope".`)
	})
	t.Run("no key", func(t *testing.T) {
		checkAPIError(t, postForm(t, srv.URL+"/api/key/", nil), 400, "Give the key in the path: /api/key/<key>.")
	})
}

func TestAPIDeleteAll(t *testing.T) {
	f := newFixture(t, setup{nodes: 3})
	srv := f.galleryServer(t, openAPI)
	for i := range 12 {
		k := fmt.Sprintf("img-%d", i)
		f.put(t, k, testimg.PNG(t, 1+i, 1))
		checkJSON(t, postForm(t, srv.URL+"/api/key/"+k, nil), http.StatusOK, contentJSON(k, testimg.PNG(t, 1+i, 1)))
	}
	if got := f.totalItems(t); got != 12 {
		t.Fatalf("the nodes hold %d items before delete_all, want 12", got)
	}
	checkJSON(t, postForm(t, srv.URL+"/api/delete_all", nil), http.StatusOK, `{"success":"true"}`)
	if keys := f.images.keys(); len(keys) != 0 {
		t.Errorf("rows left after delete_all: %q", keys)
	}
	if got := f.nodeItems(t); !cmp.Equal(got, []int64{0, 0, 0}) {
		t.Errorf("items per node after delete_all: %v, want all 0", got)
	}
	checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":[]}`)
	checkAPIError(t, postForm(t, srv.URL+"/api/key/img-0", nil), 404, `No image is stored under the key "img-0".`)
	// On an empty gallery it succeeds too.
	checkJSON(t, postForm(t, srv.URL+"/api/delete_all", nil), http.StatusOK, `{"success":"true"}`)
}

func TestAPIGetNumNodes(t *testing.T) {
	for _, n := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newFixture(t, setup{nodes: n})
			srv := f.galleryServer(t, openAPI)
			checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, fmt.Sprintf(`{"success":"true","numNodes":%d}`, n))
		})
	}
	t.Run("follows a resize", func(t *testing.T) {
		f := newFixture(t, setup{nodes: 2})
		srv := f.galleryServer(t, openAPI)
		if err := f.pool.Resize(t.Context(), 5); err != nil {
			t.Fatal(err)
		}
		checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, `{"success":"true","numNodes":5}`)
	})
}

// TestAPIGetRate: the rates are computed from the lookups the nodes
// counted in the last 60 seconds; these are made with the pool's own Get,
// one lookup each.
func TestAPIGetRate(t *testing.T) {
	tests := []struct {
		name              string
		nodes             int
		hits, misses      int
		wantMiss, wantHit float64
	}{
		{"no lookups", 1, 0, 0, 0, 0},
		{"only misses", 1, 0, 3, 1, 0},
		{"only hits", 1, 5, 0, 0, 1},
		{"a quarter missed", 1, 3, 1, 0.25, 0.75},
		{"over three nodes", 3, 6, 2, 0.25, 0.75},
		{"five eighths missed", 2, 3, 5, 0.625, 0.375},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{nodes: tt.nodes})
			srv := f.galleryServer(t, openAPI)
			ctx := t.Context()
			for i := range tt.hits {
				k := fmt.Sprintf("hit-%d", i)
				if !f.pool.Set(ctx, k, 1, []byte("v")) {
					t.Fatalf("set %s was not stored", k)
				}
				if _, _, ok := f.pool.Get(ctx, k); !ok {
					t.Fatalf("get %s missed", k)
				}
			}
			for i := range tt.misses {
				if _, _, ok := f.pool.Get(ctx, fmt.Sprintf("absent-%d", i)); ok {
					t.Fatal("get of an absent key hit")
				}
			}
			checkJSON(t, postForm(t, srv.URL+"/api/getRate?rate=miss", nil), http.StatusOK, rateJSON("miss", tt.wantMiss))
			checkJSON(t, postForm(t, srv.URL+"/api/getRate?rate=hit", nil), http.StatusOK, rateJSON("hit", tt.wantHit))
			// In the body, and in any letter case, it is the same.
			checkJSON(t, postForm(t, srv.URL+"/api/getRate", url.Values{"rate": {"miss"}}), http.StatusOK, rateJSON("miss", tt.wantMiss))
			checkJSON(t, postForm(t, srv.URL+"/api/getRate?rate=HIT", nil), http.StatusOK, rateJSON("hit", tt.wantHit))
		})
	}
}

func rateJSON(rate string, value float64) string {
	return jsonOf(map[string]any{"success": "true", "rate": rate, "value": value})
}

// TestAPIGetRateCountsUserLookups: one lookup that misses and one that
// hits, through the API, are a miss rate of one half. Each user lookup
// must count once on the nodes.
func TestAPIGetRateCountsUserLookups(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	f.put(t, "k", testimg.PNG(t, 1, 1))
	for _, want := range []string{"MISS", "HIT"} {
		r := postForm(t, srv.URL+"/api/key/k", nil)
		if r.status != http.StatusOK || r.header.Get("X-Cache") != want {
			t.Fatalf("read: status %d, X-Cache %q, want 200 %s", r.status, r.header.Get("X-Cache"), want)
		}
	}
	checkJSON(t, postForm(t, srv.URL+"/api/getRate?rate=miss", nil), http.StatusOK, rateJSON("miss", 0.5))
	checkJSON(t, postForm(t, srv.URL+"/api/getRate?rate=hit", nil), http.StatusOK, rateJSON("hit", 0.5))
}

func TestAPIGetRateRefusals(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	for _, tt := range []struct{ query, msg string }{
		{"", "Say which rate: rate=miss or rate=hit."},
		{"?rate=", "Say which rate: rate=miss or rate=hit."},
		{"?rate=%20", "Say which rate: rate=miss or rate=hit."},
		{"?rate=latency", `Unknown rate "latency": use rate=miss or rate=hit.`},
		{"?rate=misses", `Unknown rate "misses": use rate=miss or rate=hit.`},
	} {
		t.Run(tt.query, func(t *testing.T) {
			checkAPIError(t, postForm(t, srv.URL+"/api/getRate"+tt.query, nil), 400, tt.msg)
		})
	}
}

// poolWant is the state a configuration must leave.
type poolWant struct {
	nodes    int
	config   node.Config
	settings *scaling.Settings // nil: never saved
}

func (f *fixture) checkPool(t *testing.T, want poolWant) {
	t.Helper()
	if got := f.pool.Nodes(); got != want.nodes {
		t.Errorf("pool routes to %d nodes, want %d", got, want.nodes)
	}
	if got := f.runningNodes(t); got != want.nodes {
		t.Errorf("provider runs %d nodes, want %d", got, want.nodes)
	}
	if got := f.pool.Table().Config; got != want.config {
		t.Errorf("table config %+v, want %+v", got, want.config)
	}
	for i, got := range f.nodeConfigs(t) {
		if got != want.config {
			t.Errorf("node %d config %+v, want %+v", i, got, want.config)
		}
	}
	s, saved, _ := f.settings.get()
	switch {
	case want.settings == nil && saved:
		t.Errorf("settings saved: %+v, want none", s)
	case want.settings != nil && !saved:
		t.Errorf("settings not saved, want %+v", *want.settings)
	case want.settings != nil && s != *want.settings:
		t.Errorf("settings %+v, want %+v", s, *want.settings)
	}
}

func withPolicy(mode scaling.Mode, change func(p *scaling.Policy)) *scaling.Settings {
	s := scaling.DefaultSettings()
	s.Mode = mode
	if change != nil {
		change(&s.Policy)
	}
	return &s
}

// withTarget is withPolicy for the target rule, at a target miss rate.
func withTarget(mode scaling.Mode, rule scaling.Rule, missRate float64) *scaling.Settings {
	s := withPolicy(mode, nil)
	s.Rule, s.Target.MissRate = rule, missRate
	return s
}

func TestAPIConfigureCache(t *testing.T) {
	lru16 := node.Config{Capacity: 16 << 20, Policy: "lru"}
	tests := []struct {
		name   string
		params url.Values
		via    string // query (default), form or multipart
		body   string // the exact answer
		want   poolWant
	}{
		{"nothing", nil, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, nil}},
		{"cacheSize", url.Values{"cacheSize": {"32"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":32,"policy":"LRU"}`,
			poolWant{2, node.Config{Capacity: 32 << 20, Policy: "lru"}, nil}},
		{"cacheSize 0 turns the cache off", url.Values{"cacheSize": {"0"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":0,"policy":"LRU"}`,
			poolWant{2, node.Config{Capacity: 0, Policy: "lru"}, nil}},
		{"cacheSize at the maximum", url.Values{"cacheSize": {"65536"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":65536,"policy":"LRU"}`,
			poolWant{2, node.Config{Capacity: 65536 << 20, Policy: "lru"}, nil}},
		{"policy RR", url.Values{"policy": {"RR"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"RR"}`,
			poolWant{2, node.Config{Capacity: 16 << 20, Policy: "random"}, nil}},
		{"policy rr", url.Values{"policy": {"rr"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"RR"}`,
			poolWant{2, node.Config{Capacity: 16 << 20, Policy: "random"}, nil}},
		{"policy random", url.Values{"policy": {"Random"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"RR"}`,
			poolWant{2, node.Config{Capacity: 16 << 20, Policy: "random"}, nil}},
		{"policy SIEVE", url.Values{"policy": {"SIEVE"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"SIEVE"}`,
			poolWant{2, node.Config{Capacity: 16 << 20, Policy: "sieve"}, nil}},
		{"policy w-tinylfu", url.Values{"policy": {"w-tinylfu"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"TINYLFU"}`,
			poolWant{2, node.Config{Capacity: 16 << 20, Policy: "tinylfu"}, nil}},
		{"policy sizelfu", url.Values{"policy": {"sizelfu"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"SIZELFU"}`,
			poolWant{2, node.Config{Capacity: 16 << 20, Policy: "sizelfu"}, nil}},
		{"policy LRU", url.Values{"policy": {"LRU"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, nil}},
		{"numNodes grows", url.Values{"numNodes": {"3"}}, "", `{"success":"true","mode":"manual","numNodes":3,"cacheSize":16,"policy":"LRU"}`,
			poolWant{3, lru16, nil}},
		{"numNodes 1", url.Values{"numNodes": {"1"}}, "", `{"success":"true","mode":"manual","numNodes":1,"cacheSize":16,"policy":"LRU"}`,
			poolWant{1, lru16, nil}},
		{"numNodes 8", url.Values{"numNodes": {"8"}}, "", `{"success":"true","mode":"manual","numNodes":8,"cacheSize":16,"policy":"LRU"}`,
			poolWant{8, lru16, nil}},
		{"numNodes unchanged", url.Values{"numNodes": {"2"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, nil}},
		{"mode auto", url.Values{"mode": {"auto"}}, "", `{"success":"true","mode":"auto","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Auto, nil)}},
		{"mode AUTO", url.Values{"mode": {"AUTO"}}, "", `{"success":"true","mode":"auto","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Auto, nil)}},
		{"mode manual is the default", url.Values{"mode": {"manual"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, nil}},
		{"maxMiss", url.Values{"maxMiss": {"0.9"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Manual, func(p *scaling.Policy) { p.MaxMissRate = 0.9 })}},
		{"maxMiss 1", url.Values{"maxMiss": {"1"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Manual, func(p *scaling.Policy) { p.MaxMissRate = 1 })}},
		{"minMiss", url.Values{"minMiss": {"0"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Manual, func(p *scaling.Policy) { p.MinMissRate = 0 })}},
		{"expRatio", url.Values{"expRatio": {"1.5"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Manual, func(p *scaling.Policy) { p.ExpandRatio = 1.5 })}},
		{"shrinkRatio", url.Values{"shrinkRatio": {"0.25"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Manual, func(p *scaling.Policy) { p.ShrinkRatio = 0.25 })}},
		{"capacity and policy", url.Values{"cacheSize": {"8"}, "policy": {"RR"}}, "", `{"success":"true","mode":"manual","numNodes":2,"cacheSize":8,"policy":"RR"}`,
			poolWant{2, node.Config{Capacity: 8 << 20, Policy: "random"}, nil}},
		{"the four thresholds", url.Values{"maxMiss": {"0.8"}, "minMiss": {"0.1"}, "expRatio": {"3"}, "shrinkRatio": {"0.75"}}, "",
			`{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Manual, func(p *scaling.Policy) {
				*p = scaling.Policy{MaxMissRate: 0.8, MinMissRate: 0.1, ExpandRatio: 3, ShrinkRatio: 0.75, MinRequests: 20}
			})}},
		{"everything", url.Values{"mode": {"auto"}, "numNodes": {"3"}, "cacheSize": {"4"}, "policy": {"RR"},
			"expRatio": {"2.5"}, "shrinkRatio": {"0.2"}, "maxMiss": {"0.9"}, "minMiss": {"0.05"}}, "",
			`{"success":"true","mode":"auto","numNodes":3,"cacheSize":4,"policy":"RR"}`,
			poolWant{3, node.Config{Capacity: 4 << 20, Policy: "random"},
				withPolicy(scaling.Auto, func(p *scaling.Policy) {
					*p = scaling.Policy{MaxMissRate: 0.9, MinMissRate: 0.05, ExpandRatio: 2.5, ShrinkRatio: 0.2, MinRequests: 20}
				})}},
		{"everything in a form body", url.Values{"mode": {"auto"}, "numNodes": {"1"}, "cacheSize": {"2"}, "policy": {"LRU"}, "maxMiss": {"0.7"}}, "form",
			`{"success":"true","mode":"auto","numNodes":1,"cacheSize":2,"policy":"LRU"}`,
			poolWant{1, node.Config{Capacity: 2 << 20, Policy: "lru"}, withPolicy(scaling.Auto, func(p *scaling.Policy) { p.MaxMissRate = 0.7 })}},
		{"everything in a multipart body", url.Values{"numNodes": {"4"}, "cacheSize": {"1"}, "policy": {"rr"}, "minMiss": {"0.3"}}, "multipart",
			`{"success":"true","mode":"manual","numNodes":4,"cacheSize":1,"policy":"RR"}`,
			poolWant{4, node.Config{Capacity: 1 << 20, Policy: "random"}, withPolicy(scaling.Manual, func(p *scaling.Policy) { p.MinMissRate = 0.3 })}},
		{"empty values are absent", url.Values{"numNodes": {""}, "cacheSize": {""}, "policy": {""}, "mode": {""}, "rule": {""}, "targetMiss": {""}}, "",
			`{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`, poolWant{2, lru16, nil}},
		{"targetMiss selects the target rule", url.Values{"mode": {"auto"}, "targetMiss": {"0.1"}}, "",
			`{"success":"true","mode":"auto","numNodes":2,"cacheSize":16,"policy":"LRU"}`, poolWant{2, lru16, withTarget(scaling.Auto, scaling.RuleTarget, 0.1)}},
		{"targetMiss in a form body", url.Values{"mode": {"auto"}, "targetMiss": {"0.05"}}, "form",
			`{"success":"true","mode":"auto","numNodes":2,"cacheSize":16,"policy":"LRU"}`, poolWant{2, lru16, withTarget(scaling.Auto, scaling.RuleTarget, 0.05)}},
		{"rule target keeps the default target", url.Values{"mode": {"auto"}, "rule": {"Target"}}, "",
			`{"success":"true","mode":"auto","numNodes":2,"cacheSize":16,"policy":"LRU"}`, poolWant{2, lru16, withTarget(scaling.Auto, scaling.RuleTarget, 0.1)}},
		{"a ratio selects the ratios again", url.Values{"mode": {"auto"}, "maxMiss": {"0.6"}}, "",
			`{"success":"true","mode":"auto","numNodes":2,"cacheSize":16,"policy":"LRU"}`,
			poolWant{2, lru16, withPolicy(scaling.Auto, func(p *scaling.Policy) { p.MaxMissRate = 0.6 })}},
		{"rule ratios with a target kept for later", url.Values{"rule": {"ratios"}, "targetMiss": {"0.2"}}, "",
			`{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`, poolWant{2, lru16, withTarget(scaling.Manual, scaling.RuleRatios, 0.2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{nodes: 2})
			srv := f.galleryServer(t, openAPI)
			checkJSON(t, configure(t, srv.URL, tt.via, tt.params), http.StatusOK, tt.body)
			f.checkPool(t, tt.want)
		})
	}
}

// configure posts a configure_cache with its parameters where via says.
func configure(t *testing.T, base, via string, params url.Values) result {
	t.Helper()
	switch via {
	case "form":
		return postForm(t, base+"/api/configure_cache", params)
	case "multipart":
		var parts []formPart
		for k, vs := range params {
			parts = append(parts, formPart{name: k, data: []byte(vs[0])})
		}
		return postMultipart(t, base+"/api/configure_cache", parts)
	}
	target := base + "/api/configure_cache"
	if len(params) > 0 {
		target += "?" + params.Encode()
	}
	return postForm(t, target, nil)
}

func TestAPIConfigureCacheRefusals(t *testing.T) {
	tests := []struct {
		name   string
		params url.Values
		msg    string
	}{
		{"numNodes 0", url.Values{"numNodes": {"0"}}, "The number of nodes (numNodes) must be between 1 and 8; got 0."},
		{"numNodes 9", url.Values{"numNodes": {"9"}}, "The number of nodes (numNodes) must be between 1 and 8; got 9."},
		{"numNodes -1", url.Values{"numNodes": {"-1"}}, "The number of nodes (numNodes) must be between 1 and 8; got -1."},
		{"numNodes x", url.Values{"numNodes": {"x"}}, `The number of nodes (numNodes) must be a whole number from 1 to 8; got "x".`},
		{"numNodes 2.5", url.Values{"numNodes": {"2.5"}}, `The number of nodes (numNodes) must be a whole number from 1 to 8; got "2.5".`},
		{"cacheSize -1", url.Values{"cacheSize": {"-1"}}, "The capacity of each node (cacheSize) must be between 0 and 65536 MB; got -1."},
		{"cacheSize too big", url.Values{"cacheSize": {"65537"}}, "The capacity of each node (cacheSize) must be between 0 and 65536 MB; got 65537."},
		{"cacheSize words", url.Values{"cacheSize": {"lots"}}, `The capacity of each node (cacheSize) must be a whole number of MB from 0 to 65536; got "lots".`},
		{"cacheSize fraction", url.Values{"cacheSize": {"1.5"}}, `The capacity of each node (cacheSize) must be a whole number of MB from 0 to 65536; got "1.5".`},
		{"unknown policy", url.Values{"policy": {"FIFO"}}, `Unknown policy "FIFO": use one of LRU, RR, SIEVE, TINYLFU, SIZELFU.`},
		{"unknown mode", url.Values{"mode": {"sometimes"}}, `The mode must be manual or auto; got "sometimes".`},
		{"maxMiss above 1", url.Values{"maxMiss": {"1.5"}}, "The maximum miss rate must be between 0 and 1; got 1.5."},
		{"maxMiss negative", url.Values{"maxMiss": {"-0.1"}}, "The maximum miss rate must be between 0 and 1; got -0.1."},
		{"maxMiss NaN", url.Values{"maxMiss": {"NaN"}}, `The maximum miss rate must be a number; got "NaN".`},
		{"maxMiss words", url.Values{"maxMiss": {"high"}}, `The maximum miss rate must be a number; got "high".`},
		{"minMiss above 1", url.Values{"minMiss": {"2"}}, "The minimum miss rate must be between 0 and 1; got 2."},
		{"minMiss NaN", url.Values{"minMiss": {"nan"}}, `The minimum miss rate must be a number; got "nan".`},
		{"minMiss equal to max", url.Values{"minMiss": {"0.5"}}, "The minimum miss rate (0.5) must be lower than the maximum miss rate (0.5)."},
		{"maxMiss below min", url.Values{"maxMiss": {"0.1"}}, "The minimum miss rate (0.2) must be lower than the maximum miss rate (0.1)."},
		{"min above max", url.Values{"minMiss": {"0.7"}, "maxMiss": {"0.6"}}, "The minimum miss rate (0.7) must be lower than the maximum miss rate (0.6)."},
		{"expRatio 1", url.Values{"expRatio": {"1"}}, "The expand ratio must be greater than 1; got 1."},
		{"expRatio below 1", url.Values{"expRatio": {"0.5"}}, "The expand ratio must be greater than 1; got 0.5."},
		{"expRatio NaN", url.Values{"expRatio": {"NaN"}}, `The expand ratio must be a number; got "NaN".`},
		{"expRatio infinite", url.Values{"expRatio": {"Inf"}}, `The expand ratio must be a number; got "Inf".`},
		{"expRatio overflows", url.Values{"expRatio": {"1e400"}}, `The expand ratio must be a number; got "1e400".`},
		{"shrinkRatio 0", url.Values{"shrinkRatio": {"0"}}, "The shrink ratio must be greater than 0 and less than 1; got 0."},
		{"shrinkRatio 1", url.Values{"shrinkRatio": {"1"}}, "The shrink ratio must be greater than 0 and less than 1; got 1."},
		{"shrinkRatio negative", url.Values{"shrinkRatio": {"-0.5"}}, "The shrink ratio must be greater than 0 and less than 1; got -0.5."},
		{"shrinkRatio above 1", url.Values{"shrinkRatio": {"1.5"}}, "The shrink ratio must be greater than 0 and less than 1; got 1.5."},
		{"shrinkRatio NaN", url.Values{"shrinkRatio": {"NaN"}}, `The shrink ratio must be a number; got "NaN".`},
		{"two parse errors", url.Values{"policy": {"FIFO"}, "numNodes": {"0"}},
			`Unknown policy "FIFO": use one of LRU, RR, SIEVE, TINYLFU, SIZELFU. The number of nodes (numNodes) must be between 1 and 8; got 0.`},
		{"two ratios", url.Values{"expRatio": {"1"}, "shrinkRatio": {"1"}},
			"The expand ratio must be greater than 1; got 1. The shrink ratio must be greater than 0 and less than 1; got 1."},
		// A change is all or nothing: the valid parts are not applied.
		{"valid size, bad ratio", url.Values{"numNodes": {"3"}, "cacheSize": {"32"}, "policy": {"RR"}, "mode": {"auto"}, "expRatio": {"0.5"}},
			"The expand ratio must be greater than 1; got 0.5."},
		{"valid capacity, bad policy", url.Values{"cacheSize": {"32"}, "policy": {"FIFO"}}, `Unknown policy "FIFO": use one of LRU, RR, SIEVE, TINYLFU, SIZELFU.`},
		{"targetMiss 0", url.Values{"mode": {"auto"}, "targetMiss": {"0"}}, "The target miss rate must be greater than 0 and less than 1; got 0."},
		{"targetMiss 1", url.Values{"targetMiss": {"1"}}, "The target miss rate must be greater than 0 and less than 1; got 1."},
		{"targetMiss above 1", url.Values{"targetMiss": {"1.5"}}, "The target miss rate must be greater than 0 and less than 1; got 1.5."},
		{"targetMiss negative", url.Values{"targetMiss": {"-0.1"}}, "The target miss rate must be greater than 0 and less than 1; got -0.1."},
		{"targetMiss words", url.Values{"targetMiss": {"low"}}, `The target miss rate must be a number; got "low".`},
		{"unknown rule", url.Values{"rule": {"magic"}}, `The rule must be ratios or target; got "magic".`},
		{"a ratio and a target without a rule", url.Values{"maxMiss": {"0.6"}, "targetMiss": {"0.1"}},
			"Give rule=ratios or rule=target with both the ratios' parameters and targetMiss: which one applies?"},
		// A typo answered success and changed nothing; now it is named.
		{"unknown parameter", url.Values{"mode": {"auto"}, "targetmiss": {"0.1"}},
			`Unknown parameter "targetmiss": configure_cache takes mode, numNodes, cacheSize, policy, maxMiss, minMiss, expRatio, shrinkRatio, rule, targetMiss.`},
		{"two unknown parameters, even empty", url.Values{"numnodes": {"3"}, "size": {""}},
			`Unknown parameter "numnodes": configure_cache takes mode, numNodes, cacheSize, policy, maxMiss, minMiss, expRatio, shrinkRatio, rule, targetMiss. ` +
				`Unknown parameter "size": configure_cache takes mode, numNodes, cacheSize, policy, maxMiss, minMiss, expRatio, shrinkRatio, rule, targetMiss.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{nodes: 2})
			srv := f.galleryServer(t, openAPI)
			epoch := f.pool.Table().Epoch
			checkAPIError(t, configure(t, srv.URL, "", tt.params), 400, tt.msg)
			f.checkPool(t, poolWant{2, node.Config{Capacity: 16 << 20, Policy: "lru"}, nil})
			if got := f.pool.Table().Epoch; got != epoch {
				t.Errorf("table epoch went from %d to %d after a refusal", epoch, got)
			}
		})
	}
}

func TestAPIMethodNotAllowed(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	f.put(t, "k", testimg.PNG(t, 1, 1))
	for _, path := range []string{"/api/upload", "/api/list_keys", "/api/key/k", "/api/delete_all", "/api/getNumNodes",
		"/api/getRate?rate=miss", "/api/configure_cache?numNodes=3"} {
		t.Run(path, func(t *testing.T) {
			r := get(t, srv.URL+path)
			checkAPIError(t, r, http.StatusMethodNotAllowed, "Use POST for "+strings.SplitN(path, "?", 2)[0]+".")
			if got := r.header.Get("Allow"); got != "POST" {
				t.Errorf("Allow: got %q, want POST", got)
			}
		})
	}
	// A GET changed nothing.
	if f.pool.Nodes() != 1 || len(f.images.keys()) != 1 {
		t.Errorf("after the GETs: %d nodes, keys %q", f.pool.Nodes(), f.images.keys())
	}
}

func TestAPIUnknownRoute(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	checkAPIError(t, postForm(t, srv.URL+"/api/nope", nil), 404, "No such API route: /api/nope.")
	checkAPIError(t, postForm(t, srv.URL+"/api/key", nil), 404, "No such API route: /api/key.")
}

// TestAPIStorageUnavailable: with storage down every route that needs it
// answers 503 with the user's message and changes nothing; the pool's
// routes still answer, and a cached image is still served.
func TestAPIStorageUnavailable(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	data := testimg.PNG(t, 2, 2)
	f.put(t, "cached", data)
	f.put(t, "stored", testimg.GIF(t))
	checkJSON(t, postForm(t, srv.URL+"/api/key/cached", nil), http.StatusOK, contentJSON("cached", data))
	f.images.setFail(errStorageDown)

	t.Run("upload", func(t *testing.T) {
		checkAPIError(t, upload(t, srv.URL, "/api/upload", "new", testimg.PNG(t, 1, 1)), 503, storageMessage)
	})
	t.Run("list_keys", func(t *testing.T) {
		checkAPIError(t, postForm(t, srv.URL+"/api/list_keys", nil), 503, storageMessage)
	})
	t.Run("key not cached", func(t *testing.T) {
		checkAPIError(t, postForm(t, srv.URL+"/api/key/stored", nil), 503, storageMessage)
	})
	t.Run("key cached", func(t *testing.T) {
		r := postForm(t, srv.URL+"/api/key/cached", nil)
		checkJSON(t, r, http.StatusOK, contentJSON("cached", data))
		if got := r.header.Get("X-Cache"); got != "HIT" {
			t.Errorf("X-Cache: got %q, want HIT", got)
		}
	})
	t.Run("delete_all", func(t *testing.T) {
		checkAPIError(t, postForm(t, srv.URL+"/api/delete_all", nil), 503, storageMessage)
		if got := f.totalItems(t); got != 1 {
			t.Errorf("the nodes hold %d items after a failed delete_all, want the 1 cached", got)
		}
	})
	t.Run("getNumNodes", func(t *testing.T) {
		checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, `{"success":"true","numNodes":2}`)
	})
	f.images.setFail(nil)
	if got := f.images.keys(); !cmp.Equal(got, []string{"cached", "stored"}) {
		t.Errorf("keys after the outage: %q, want [cached stored]", got)
	}
	if row, _ := f.images.row("cached"); row.img.Version != 1 {
		t.Errorf("cached is at version %d, want 1", row.img.Version)
	}
}

// TestAPIOtherFailure: any failure of storage, whatever it says, is told
// as storage being unavailable (503, nothing changed): its details stay in
// the log (the one rule is gallery's storageError).
func TestAPIOtherFailure(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	f.images.setFail(fmt.Errorf("fake store: disk on fire at /var/lib/secret"))
	checkAPIError(t, postForm(t, srv.URL+"/api/list_keys", nil), 503, storageMessage)
}

// TestAPIDeadNode: a node that died is a miss, not an error: its keys
// are read from storage, and a key it owned can still be replaced.
func TestAPIDeadNode(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	members := f.pool.Table().Members
	deadNode, _ := f.local.Node(members[0])
	var keys, onDead []string
	for i := range 16 {
		k := fmt.Sprintf("k%d", i)
		keys = append(keys, k)
		f.put(t, k, testimg.PNG(t, 1+i, 1))
		before := deadNode.Status().Items
		checkJSON(t, postForm(t, srv.URL+"/api/key/"+k, nil), http.StatusOK, contentJSON(k, testimg.PNG(t, 1+i, 1)))
		if deadNode.Status().Items > before {
			onDead = append(onDead, k)
		}
	}
	if len(onDead) == 0 || len(onDead) == len(keys) {
		t.Fatalf("%d of %d keys on the first node: want some on each", len(onDead), len(keys))
	}
	if err := f.local.Kill(members[0]); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		want := "HIT"
		if slices.Contains(onDead, k) {
			want = "MISS"
		}
		r := postForm(t, srv.URL+"/api/key/"+k, nil)
		checkJSON(t, r, http.StatusOK, contentJSON(k, testimg.PNG(t, 1+i, 1)))
		if got := r.header.Get("X-Cache"); got != want {
			t.Errorf("%s: X-Cache %q, want %q", k, got, want)
		}
	}
	checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, `{"success":"true","numNodes":2}`)
	if r := postForm(t, srv.URL+"/api/getRate?rate=miss", nil); r.status != http.StatusOK {
		t.Errorf("getRate with a dead node: %d %s", r.status, r.body)
	}
	replaced := onDead[0]
	checkJSON(t, upload(t, srv.URL, "/api/upload", replaced, testimg.GIF(t)), http.StatusOK, okKey(replaced))
	checkJSON(t, postForm(t, srv.URL+"/api/key/"+replaced, nil), http.StatusOK, contentJSON(replaced, testimg.GIF(t)))
}

// TestAPIDeleteAllWithDeadNode: a node that is down does not stop
// delete_all, and does not make it lie: the answer is success, every image
// is gone, and nothing deleted is served afterwards (the down node's
// entries are retired with the pool's generation, see pool.Fences).
func TestAPIDeleteAllWithDeadNode(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	f.putCached(t, 8)
	if err := f.local.Kill(f.pool.Table().Members[1]); err != nil {
		t.Fatal(err)
	}
	checkJSON(t, postForm(t, srv.URL+"/api/delete_all", nil), http.StatusOK, `{"success":"true"}`)
	if keys := f.images.keys(); len(keys) != 0 {
		t.Errorf("keys left: %q", keys)
	}
	for i := range 8 {
		if r := postForm(t, srv.URL+"/api/key/"+fmt.Sprint("k", i), nil); r.status != http.StatusNotFound {
			t.Errorf("k%d after delete_all: %d %s, want 404", i, r.status, r.body)
		}
	}
}

// TestAPIFollowerCannotResize: a gallery.Control over a pool it follows refuses
// to resize or configure it, and changes nothing. (A gallery does not use
// one: it hands the change to the owner, see forward_test.go.)
func TestAPIFollowerCannotResize(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	follower, err := pool.New(t.Context(), pool.Options{Tables: f.tables, Token: testToken, Timeout: 5e9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(follower.Close)
	g := gallery.NewService(f.images, follower, photo.Limits{MaxBytes: 64 << 10}, f.log)
	c := gallery.NewControl(follower, f.settings, f.log)
	r := chi.NewRouter()
	NewAPI(g, follower, c, f.log).Routes(r, openAPI)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	const msg = "This process follows the pool and cannot change it; use the manager (picpool manager or picpool dev)."
	checkAPIError(t, configure(t, srv.URL, "", url.Values{"numNodes": {"3"}}), 409, msg)
	checkAPIError(t, configure(t, srv.URL, "", url.Values{"cacheSize": {"8"}}), 409, msg)
	checkAPIError(t, configure(t, srv.URL, "", url.Values{"policy": {"RR"}}), 409, msg)
	f.checkPool(t, poolWant{2, lruConfig(16), nil})
	// It reads the pool as the owner sees it.
	checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, `{"success":"true","numNodes":2}`)
	checkJSON(t, configure(t, srv.URL, "", nil), http.StatusOK, `{"success":"true","mode":"manual","numNodes":2,"cacheSize":16,"policy":"LRU"}`)
	f.put(t, "k", testimg.PNG(t, 1, 1))
	checkJSON(t, postForm(t, srv.URL+"/api/key/k", nil), http.StatusOK, contentJSON("k", testimg.PNG(t, 1, 1)))
}

// TestAPIOnManager: the manager serves the same /api, without a session.
func TestAPIOnManager(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.managerServer(t, openAPI, nil)
	checkJSON(t, upload(t, srv.URL, "/api/upload", "m", testimg.PNG(t, 1, 1)), http.StatusOK, okKey("m"))
	checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":["m"]}`)
	checkJSON(t, postForm(t, srv.URL+"/api/key/m", nil), http.StatusOK, contentJSON("m", testimg.PNG(t, 1, 1)))
	checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, `{"success":"true","numNodes":2}`)
	checkJSON(t, configure(t, srv.URL, "", url.Values{"numNodes": {"3"}, "policy": {"RR"}}), http.StatusOK,
		`{"success":"true","mode":"manual","numNodes":3,"cacheSize":16,"policy":"RR"}`)
	checkJSON(t, postForm(t, srv.URL+"/api/delete_all", nil), http.StatusOK, `{"success":"true"}`)
	checkAPIError(t, get(t, srv.URL+"/api/list_keys"), 405, "Use POST for /api/list_keys.")
	checkAPIError(t, postForm(t, srv.URL+"/api/getRate?rate=x", nil), 400, `Unknown rate "x": use rate=miss or rate=hit.`)
}

func decodeInto(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// TestAPIUnreadableBodies: bodies that are not what they claim are
// refused with a 4xx saying so.
func TestAPIUnreadableBodies(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	raw := func(path, contentType, body string) result {
		req := newRequest(t, http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		return send(t, req)
	}
	t.Run("multipart without a boundary", func(t *testing.T) {
		checkAPIError(t, raw("/api/upload", "multipart/form-data", "x"), 400, "The upload is not a readable multipart form.")
	})
	t.Run("multipart cut short", func(t *testing.T) {
		body := "--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG"
		checkAPIError(t, raw("/api/upload", "multipart/form-data; boundary=B", body), 400, "The upload was cut short.")
	})
	t.Run("multipart garbage", func(t *testing.T) {
		checkAPIError(t, raw("/api/upload", "multipart/form-data; boundary=B", "--B\r\nno headers end"), 400, "The upload form is cut short or malformed.")
	})
	t.Run("body over the server's bound", func(t *testing.T) {
		// Other fields count too: the whole body is bounded at the file
		// limit plus 1 MiB.
		parts := []formPart{{name: "junk", data: make([]byte, 64<<10+1<<20+64<<10)}, keyPart("k"), filePart("a.png", testimg.PNG(t, 1, 1))}
		checkAPIError(t, postMultipart(t, srv.URL+"/api/upload", parts), 413, "The upload is larger than 64 KiB, the limit.")
	})
	t.Run("configure_cache with a broken multipart body", func(t *testing.T) {
		checkAPIError(t, raw("/api/configure_cache", "multipart/form-data; boundary=B", "--B\r\nbroken"), 400,
			"The parameters could not be read: send them as a form, multipart form or query.")
	})
	if keys := f.images.keys(); len(keys) != 0 {
		t.Errorf("stored %q", keys)
	}
	f.checkPool(t, poolWant{1, lruConfig(16), nil})
}
