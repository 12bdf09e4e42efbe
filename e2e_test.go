package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picpool/picpool/internal/testimg"
)

// End-to-end tests: run() serves the real product on loopback ports, with
// SQLite and a blob folder in a temporary directory and real cache nodes,
// and the tests drive it over real HTTP as a user's scripts would.

// apiResult is a decoded test API answer.
type apiResult struct {
	status int
	cache  string // X-Cache
	body   map[string]any
	raw    string
}

func (r apiResult) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// apiCall posts to an /api route: form fields, and a file when file is
// not nil (multipart). It fails the test on a transport error or an answer
// that is not JSON; from another goroutine, use apiPost.
func apiCall(t testing.TB, base, route string, fields map[string]string, file []byte) apiResult {
	t.Helper()
	r, err := apiPost(base, route, fields, file)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// apiPost is apiCall returning its failure instead of failing the test.
func apiPost(base, route string, fields map[string]string, file []byte) (apiResult, error) {
	var body bytes.Buffer
	contentType := "application/x-www-form-urlencoded"
	if file != nil {
		mw := multipart.NewWriter(&body)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", "image.png")
		fw.Write(file)
		mw.Close()
		contentType = mw.FormDataContentType()
	} else {
		v := url.Values{}
		for k, x := range fields {
			v.Set(k, x)
		}
		body.WriteString(v.Encode())
	}
	resp, err := http.Post(base+route, contentType, &body)
	if err != nil {
		return apiResult{}, fmt.Errorf("POST %s: %w", route, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResult{status: resp.StatusCode, cache: resp.Header.Get("X-Cache"), raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		return r, fmt.Errorf("POST %s: not JSON: %q", route, raw)
	}
	return r, nil
}

// pngOf returns a PNG of the given size; its width tells images apart.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	return testimg.NoisePNG(t, w, h, uint64(w))
}

func TestEndToEndAPI(t *testing.T) {
	base, _ := startDev(t)
	const n = 20
	images := map[string][]byte{}
	var keys []string
	for i := range n {
		k := fmt.Sprintf("photo %02d ü", i) // spaces and non-ASCII in keys
		images[k] = pngOf(t, 10+i, 10)
		keys = append(keys, k)
		if r := apiCall(t, base, "/api/upload", map[string]string{"key": k}, images[k]); r.status != 200 || r.raw != fmt.Sprintf(`{"success":"true","key":%q}`+"\n", k) {
			t.Fatalf("upload %q: %v", k, r)
		}
	}
	r := apiCall(t, base, "/api/list_keys", nil, nil)
	got := r.body["keys"].([]any)
	if len(got) != n || got[0] != keys[n-1] || got[n-1] != keys[0] {
		t.Fatalf("list_keys = %v, want %d keys newest first", r, n)
	}
	readAll := func(wantCache string) {
		t.Helper()
		for _, k := range keys {
			r := apiCall(t, base, "/api/key/"+url.PathEscape(k), nil, nil)
			content, _ := base64.StdEncoding.DecodeString(fmt.Sprint(r.body["content"]))
			if r.status != 200 || r.body["key"] != k || !bytes.Equal(content, images[k]) {
				t.Fatalf("key %q: %d, content %d bytes, want the uploaded %d bytes", k, r.status, len(content), len(images[k]))
			}
			if wantCache != "" && r.cache != wantCache {
				t.Fatalf("key %q served as %s, want %s", k, r.cache, wantCache)
			}
		}
	}
	readAll("MISS") // uploads invalidate; the first read loads
	readAll("HIT")
	if r := apiCall(t, base, "/api/getNumNodes", nil, nil); r.raw != `{"success":"true","numNodes":2}`+"\n" {
		t.Fatalf("getNumNodes: %v", r)
	}
	if r := apiCall(t, base, "/api/getRate?rate=miss", nil, nil); r.body["value"] != 0.5 {
		t.Fatalf("miss rate after %d misses and %d hits: %v", n, n, r)
	}
	// Grow warm: every cached image is still a hit on its new owner.
	if r := apiCall(t, base, "/api/configure_cache", map[string]string{"mode": "manual", "numNodes": "3"}, nil); r.status != 200 || r.body["numNodes"] != 3.0 {
		t.Fatalf("configure_cache numNodes=3: %v", r)
	}
	readAll("HIT")
	// Shrink warm too.
	if r := apiCall(t, base, "/api/configure_cache?numNodes=1&cacheSize=16&policy=RR", nil, nil); r.raw != `{"success":"true","mode":"manual","numNodes":1,"cacheSize":16,"policy":"RR"}`+"\n" {
		t.Fatalf("configure_cache numNodes=1: %v", r)
	}
	readAll("HIT")
	// A re-upload replaces the image and is what the next read sees.
	k := keys[3]
	images[k] = pngOf(t, 77, 7)
	apiCall(t, base, "/api/upload", map[string]string{"key": k}, images[k])
	readAll("") // the replaced key misses once, the others hit
	// Delete everything: rows, blobs and nodes.
	if r := apiCall(t, base, "/api/delete_all", nil, nil); r.raw != `{"success":"true"}`+"\n" {
		t.Fatalf("delete_all: %v", r)
	}
	if r := apiCall(t, base, "/api/list_keys", nil, nil); r.raw != `{"success":"true","keys":[]}`+"\n" {
		t.Fatalf("list_keys after delete_all: %v", r)
	}
	if r := apiCall(t, base, "/api/key/"+url.PathEscape(keys[0]), nil, nil); r.status != 404 {
		t.Fatalf("a deleted image is still served: %v", r)
	}
}

// TestMaxMegapixels: --max-megapixels reaches the upload check: an image
// over it is refused with 413 and the limit, one within it is stored.
func TestMaxMegapixels(t *testing.T) {
	base, _ := startDev(t, "--max-megapixels", "1")
	r := apiCall(t, base, "/api/upload", map[string]string{"key": "big"}, pngOf(t, 1500, 1000))
	want := `{"success":"false","error":{"code":413,"message":"The image is 1500 × 1000 pixels (1.5 megapixels); the limit is 1 megapixel. Please scale it down."}}` + "\n"
	if r.status != 413 || r.raw != want {
		t.Errorf("upload of 1.5 MP: %d %s, want 413 %s", r.status, r.raw, want)
	}
	if r := apiCall(t, base, "/api/upload", map[string]string{"key": "small"}, pngOf(t, 1000, 1000)); r.status != 200 {
		t.Errorf("upload of 1 MP: %v, want 200", r)
	}
}

// TestGalleryFollowsManager runs the manager and the gallery as separate
// roles (two run() calls, as two processes would, sharing the database):
// the gallery follows the pool table the manager owns within 2 s.
func TestGalleryFollowsManager(t *testing.T) {
	dir := t.TempDir()
	shared := []string{"--db", "sqlite:" + dir + "/picpool.db", "--blobs", "file:" + dir + "/blobs", "--node-token", "shared-token"}
	m, _ := startCommand(t, "manager", []string{"manager"}, append([]string{"--addr", "127.0.0.1:0", "--password", "pw", "--nodes", "2"}, shared...)...)
	g, _ := startCommand(t, "gallery", []string{"gallery"}, append([]string{"--addr", "127.0.0.1:0"}, shared...)...)
	manager, gallery := m["manager"], g["gallery"]

	img := pngOf(t, 12, 12)
	if r := apiCall(t, gallery, "/api/upload", map[string]string{"key": "shared"}, img); r.status != 200 {
		t.Fatalf("upload through the gallery: %v", r)
	}
	apiCall(t, gallery, "/api/key/shared", nil, nil)
	if r := apiCall(t, manager, "/api/key/shared", nil, nil); r.cache != "HIT" {
		t.Fatalf("the manager does not see what the gallery cached: %v (X-Cache %s)", r, r.cache)
	}
	// Watch both servers while the manager resizes: the manager routes by
	// the new table as soon as it publishes it; the gallery must follow
	// within 2 s.
	seen := map[string]time.Time{}
	var mu sync.Mutex
	stop := make(chan struct{})
	var watchers sync.WaitGroup
	for name, base := range map[string]string{"manager": manager, "gallery": gallery} {
		watchers.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if r := apiCall(t, base, "/api/getNumNodes", nil, nil); r.body["numNodes"] == 4.0 {
					mu.Lock()
					seen[name] = time.Now()
					mu.Unlock()
					return
				}
			}
		})
	}
	if r := apiCall(t, manager, "/api/configure_cache", map[string]string{"numNodes": "4"}, nil); r.body["numNodes"] != 4.0 {
		t.Fatalf("configure_cache on the manager: %v", r)
	}
	time.AfterFunc(3*time.Second, func() { close(stop) })
	watchers.Wait()
	mu.Lock()
	lag, ok := seen["gallery"].Sub(seen["manager"]), !seen["gallery"].IsZero() && !seen["manager"].IsZero()
	mu.Unlock()
	if !ok || lag > 2*time.Second {
		t.Fatalf("the gallery did not follow the manager's new table within 2 s (seen: %v)", seen)
	}
	t.Logf("the gallery followed the manager's new table %s later", lag.Round(time.Millisecond))
	if r := apiCall(t, gallery, "/api/key/shared", nil, nil); r.cache != "HIT" {
		t.Fatalf("after the resize the gallery misses the moved entry: %v", r)
	}
}

// TestReadersNeverGoBack: writers keep replacing a few images while
// readers fetch them; no reader ever sees an image older than one it has
// already seen for the same key. Each version is an image as wide as its
// version number.
func TestReadersNeverGoBack(t *testing.T) {
	base, _ := startDev(t)
	keys := []string{"a", "b", "c"}
	var versions [3]atomic.Int64
	for i, k := range keys {
		versions[i].Store(1)
		apiCall(t, base, "/api/upload", map[string]string{"key": k}, pngOf(t, 1, 1))
	}
	deadline := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	var reads, writes atomic.Int64
	errs := make(chan string, 8)
	for i := range keys { // one writer per key: versions go up one by one
		wg.Go(func() {
			for time.Now().Before(deadline) {
				v := versions[i].Load() + 1
				if r, err := apiPost(base, "/api/upload", map[string]string{"key": keys[i]}, pngOf(t, int(v), 1)); err != nil || r.status != 200 {
					errs <- fmt.Sprintf("upload: %v %v", r, err)
					return
				}
				versions[i].Store(v)
				writes.Add(1)
			}
		})
	}
	for g := range 4 {
		wg.Go(func() {
			seen := make([]int, len(keys))
			for n := 0; time.Now().Before(deadline); n++ {
				i := (n + g) % len(keys)
				r, err := apiPost(base, "/api/key/"+keys[i], nil, nil)
				if err != nil {
					errs <- err.Error()
					return
				}
				content, _ := base64.StdEncoding.DecodeString(fmt.Sprint(r.body["content"]))
				cfg, _, err := image.DecodeConfig(bytes.NewReader(content))
				if r.status != 200 || err != nil {
					errs <- fmt.Sprintf("read %s: %v, %v", keys[i], r.status, err)
					return
				}
				if cfg.Width < seen[i] {
					errs <- fmt.Sprintf("%s: saw version %d after version %d", keys[i], cfg.Width, seen[i])
					return
				}
				seen[i] = cfg.Width
				reads.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []string
	for e := range errs {
		all = append(all, e)
	}
	if len(all) > 0 {
		t.Fatalf("%d failures, first: %s", len(all), all[0])
	}
	if reads.Load() < 50 || writes.Load() < 10 {
		t.Fatalf("only %d reads and %d writes ran: the test proved little", reads.Load(), writes.Load())
	}
	t.Logf("%d reads, %d writes, no reader went back", reads.Load(), writes.Load())
}
