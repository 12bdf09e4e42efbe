package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/picpool/picpool/store"
	"github.com/picpool/picpool/store/storetest"
)

// TestChaos runs the production layout, each role its own process: two
// standalone `picpool node`s, a manager that pools them (static
// provider), and a gallery, on PostgreSQL. Readers and re-uploaders load
// the gallery while a node is frozen (SIGSTOP) and resumed, the other is
// killed and restarted, and the manager deletes everything. Every image
// encodes its key and upload number, so each read can be judged:
//
//   - stale: a read that started after a newer upload of its key (or a
//     delete_all) was acknowledged, and returned an older image;
//   - wrong: a read that returned another key's image;
//   - lost: an acknowledged upload that storage does not hold at the end;
//   - and at the end the cache must serve what storage holds, for every key.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos test runs real processes for about half a minute; skipped with -short")
	}
	dsn := storetest.DSN(t, storetest.Postgres) // skips, saying why, without PICPOOL_TEST_POSTGRES
	blobs := "file:" + t.TempDir()
	const token = "chaos-node-token"
	var nodes [2]*proc
	var addrs [2]string
	for i := range nodes {
		addrs[i] = freePort(t)
		nodes[i] = startProc(t, fmt.Sprintf("node %d", i), "node", "--addr", addrs[i], "--data-addr", freePort(t),
			"--token", token, "--capacity-mb", "32")
		nodes[i].waitLog(`msg="node listening"`)
	}
	manager := startProc(t, "manager", "manager", "--addr", "127.0.0.1:0", "--db", dsn, "--blobs", blobs,
		"--provider", "static:"+addrs[0]+","+addrs[1], "--nodes", "2", "--node-token", token,
		"--password", "chaos", "--capacity-mb", "32")
	managerURL := manager.waitLog(`msg="manager listening" url=(http://\S+)`)
	gallery := startProc(t, "gallery", "gallery", "--addr", "127.0.0.1:0", "--db", dsn, "--blobs", blobs,
		"--node-token", token)
	galleryURL := gallery.waitLog(`msg="gallery listening" url=(http://\S+)`)

	w := newChaosWorkload(galleryURL, 40)
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { w.write(ctx, i, 4) })
	}
	for range 6 {
		wg.Go(func() { w.read(ctx) })
	}
	phase := func(name string, d time.Duration) phaseCount {
		before := w.count()
		start := time.Now()
		time.Sleep(d)
		pc := w.count().minus(before, time.Since(start))
		t.Logf("%-22s %6.0f reads/s %5.1f uploads/s (%d reads, %d uploads, %d errors)", name, pc.readRate(), pc.uploadRate(), pc.reads, pc.uploads, pc.errors)
		return pc
	}
	healthy := phase("healthy", 4*time.Second)
	nodes[0].signal(syscall.SIGSTOP)
	frozen := phase("node 0 frozen", 4*time.Second)
	nodes[0].signal(syscall.SIGCONT)
	phase("node 0 resumed", 3*time.Second)
	nodes[1].signal(syscall.SIGKILL)
	phase("node 1 killed", time.Second)
	nodes[1].restart()
	nodes[1].waitLog(`msg="node listening"`)
	phase("node 1 restarted", 3*time.Second)
	w.deleteAll(t, managerURL)
	phase("after delete_all", 3*time.Second)
	stop()
	wg.Wait()

	ratio := frozen.readRate() / healthy.readRate()
	t.Logf("reads with a node frozen: %.2f of the healthy pool's", ratio)
	// The target is 0.8 (see README's Guarantees); a shared CI machine is
	// too noisy to hold that line, but a head-of-line stall (0.24 before
	// the circuit breaker) is caught here.
	if ratio < 0.5 {
		t.Errorf("reads with a node frozen ran at %.2f of the healthy rate; a frozen node must cost only its own keys", ratio)
	}
	w.judge(t)
	w.checkFinal(t, dsn, blobs)
}

// chaosWorkload drives the gallery and keeps what it needs to judge.
type chaosWorkload struct {
	base   string
	keys   int
	client *http.Client
	seq    atomic.Int64

	mu      sync.Mutex
	uploads map[int][]chaosUpload // per key, in order (one writer per key)
	deletes []chaosSpan
	reads   []chaosRead
	errors  []string
	counts  phaseCount
}

type chaosSpan struct{ start, end time.Time }

type chaosUpload struct {
	chaosSpan
	seq   int64
	acked bool
}

type chaosRead struct {
	key    int
	start  time.Time
	found  bool
	gotKey int
	seq    int64
}

type phaseCount struct {
	reads, uploads, errors int
	took                   time.Duration
}

func (c phaseCount) minus(b phaseCount, took time.Duration) phaseCount {
	return phaseCount{c.reads - b.reads, c.uploads - b.uploads, c.errors - b.errors, took}
}
func (c phaseCount) readRate() float64   { return float64(c.reads) / c.took.Seconds() }
func (c phaseCount) uploadRate() float64 { return float64(c.uploads) / c.took.Seconds() }

func newChaosWorkload(base string, keys int) *chaosWorkload {
	return &chaosWorkload{base: base, keys: keys, client: &http.Client{Timeout: 30 * time.Second}, uploads: map[int][]chaosUpload{}}
}

func (w *chaosWorkload) count() phaseCount {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts
}

func (w *chaosWorkload) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts.errors++
	if len(w.errors) < 20 {
		w.errors = append(w.errors, fmt.Sprintf(format, args...))
	}
}

// chaosKey is key i's name in the gallery.
func chaosKey(i int) string { return fmt.Sprintf("chaos %02d", i) }

// chaosPNG is an image that says which key and upload it is.
func chaosPNG(key int, seq int64) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	img.Set(0, 0, color.NRGBA{uint8(key), 0x5a, 0xa5, 255})
	img.Set(1, 0, color.NRGBA{uint8(seq >> 16), uint8(seq >> 8), uint8(seq), 255})
	img.Set(2, 0, color.NRGBA{uint8(seq >> 40), uint8(seq >> 32), uint8(seq >> 24), 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// decodeChaosPNG reads back what chaosPNG wrote.
func decodeChaosPNG(data []byte) (key int, seq int64, err error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return 0, 0, err
	}
	k := color.NRGBAModel.Convert(img.At(0, 0)).(color.NRGBA)
	lo := color.NRGBAModel.Convert(img.At(1, 0)).(color.NRGBA)
	hi := color.NRGBAModel.Convert(img.At(2, 0)).(color.NRGBA)
	if k.G != 0x5a || k.B != 0xa5 {
		return 0, 0, fmt.Errorf("not a chaos image")
	}
	seq = int64(hi.R)<<40 | int64(hi.G)<<32 | int64(hi.B)<<24 | int64(lo.R)<<16 | int64(lo.G)<<8 | int64(lo.B)
	return int(k.R), seq, nil
}

// write re-uploads writer's own keys (key % writers == writer) until ctx
// ends, one at a time, so that each key's uploads are ordered.
func (w *chaosWorkload) write(ctx context.Context, writer, writers int) {
	r := rand.New(rand.NewPCG(uint64(writer), 7))
	for ctx.Err() == nil {
		key := writer + writers*r.IntN(w.keys/writers)
		seq := w.seq.Add(1)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("key", chaosKey(key))
		fw, _ := mw.CreateFormFile("file", "chaos.png")
		fw.Write(chaosPNG(key, seq))
		mw.Close()
		u := chaosUpload{chaosSpan: chaosSpan{start: time.Now()}, seq: seq}
		req, _ := http.NewRequest(http.MethodPost, w.base+"/api/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := w.client.Do(req)
		u.end = time.Now()
		if err == nil {
			answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			resp.Body.Close()
			u.acked = resp.StatusCode == http.StatusOK
			if !u.acked {
				w.fail("upload %s #%d: %s %s", chaosKey(key), seq, resp.Status, bytes.TrimSpace(answer))
			}
		} else {
			w.fail("upload %s #%d: %v", chaosKey(key), seq, err)
		}
		w.mu.Lock()
		w.uploads[key] = append(w.uploads[key], u)
		if u.acked {
			w.counts.uploads++
		}
		w.mu.Unlock()
	}
}

// read reads random keys until ctx ends.
func (w *chaosWorkload) read(ctx context.Context) {
	for ctx.Err() == nil {
		key := rand.IntN(w.keys)
		rd := chaosRead{key: key, start: time.Now()}
		found, data, err := w.fetch(key)
		if err != nil {
			w.fail("read %s: %v", chaosKey(key), err)
			continue
		}
		rd.found = found
		if found {
			if rd.gotKey, rd.seq, err = decodeChaosPNG(data); err != nil {
				w.fail("read %s: %v", chaosKey(key), err)
				continue
			}
		}
		w.mu.Lock()
		w.reads = append(w.reads, rd)
		w.counts.reads++
		w.mu.Unlock()
	}
}

// fetch reads a key through the test API: found, and its bytes.
func (w *chaosWorkload) fetch(key int) (bool, []byte, error) {
	resp, err := w.client.Post(w.base+"/api/key/"+url.PathEscape(chaosKey(key)), "application/x-www-form-urlencoded", nil)
	if err != nil {
		return false, nil, err
	}
	defer resp.Body.Close()
	var body struct{ Content string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		data, err := base64.StdEncoding.DecodeString(body.Content)
		return true, data, err
	case http.StatusNotFound:
		return false, nil, nil
	}
	return false, nil, fmt.Errorf("%s", resp.Status)
}

// deleteAll deletes everything through the manager's test API.
func (w *chaosWorkload) deleteAll(t *testing.T, managerURL string) {
	t.Helper()
	d := chaosSpan{start: time.Now()}
	resp, err := w.client.Post(managerURL+"/api/delete_all", "application/x-www-form-urlencoded", nil)
	d.end = time.Now()
	if err != nil {
		t.Fatalf("delete_all: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delete_all on the manager: %s %s", resp.Status, body)
	}
	w.mu.Lock()
	w.deletes = append(w.deletes, d)
	w.mu.Unlock()
	t.Logf("delete_all took %v", d.end.Sub(d.start).Round(time.Millisecond))
}

// deletedAfter reports whether a delete_all may have removed an upload
// that started at start, as seen by a read that started at readStart.
func (w *chaosWorkload) deletedAfter(start, readStart time.Time) bool {
	for _, d := range w.deletes {
		if d.end.After(start) && d.start.Before(readStart) {
			return true
		}
	}
	return false
}

// judge counts stale and wrong reads.
func (w *chaosWorkload) judge(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var stale, wrong, acked int
	var examples []string
	for _, us := range w.uploads {
		for _, u := range us {
			if u.acked {
				acked++
			}
		}
	}
	for _, rd := range w.reads {
		if why := w.staleness(rd); why != "" {
			if rd.found && rd.gotKey != rd.key {
				wrong++
			} else {
				stale++
			}
			if len(examples) < 10 {
				examples = append(examples, why)
			}
		}
	}
	t.Logf("%d reads, %d acknowledged uploads, %d delete_all: %d stale reads, %d wrong images, %d errors", len(w.reads), acked, len(w.deletes), stale, wrong, w.counts.errors)
	for _, e := range w.errors {
		t.Logf("error: %s", e)
	}
	if stale > 0 || wrong > 0 {
		t.Errorf("%d stale and %d wrong reads, e.g.:\n%s", stale, wrong, examples)
	}
}

// staleness says why a read is stale or wrong, or "".
func (w *chaosWorkload) staleness(rd chaosRead) string {
	name := chaosKey(rd.key)
	us := w.uploads[rd.key]
	if !rd.found {
		for _, u := range us {
			if u.acked && u.end.Before(rd.start) && !w.deletedAfter(u.start, rd.start) {
				return fmt.Sprintf("%s: not found at %s, but upload #%d was acknowledged at %s", name, rd.start.Format("15:04:05.000"), u.seq, u.end.Format("15:04:05.000"))
			}
		}
		return ""
	}
	if rd.gotKey != rd.key {
		return fmt.Sprintf("%s: read the image of %s", name, chaosKey(rd.gotKey))
	}
	i := slices.IndexFunc(us, func(u chaosUpload) bool { return u.seq == rd.seq })
	if i < 0 {
		return fmt.Sprintf("%s: read upload #%d, which was never sent for it", name, rd.seq)
	}
	for _, later := range us[i+1:] {
		if later.acked && later.end.Before(rd.start) {
			return fmt.Sprintf("%s: read #%d at %s, but #%d was acknowledged at %s", name, rd.seq, rd.start.Format("15:04:05.000"), later.seq, later.end.Format("15:04:05.000"))
		}
	}
	for _, d := range w.deletes {
		if d.end.Before(rd.start) && d.start.After(us[i].end) {
			return fmt.Sprintf("%s: read #%d at %s, deleted by delete_all acknowledged at %s", name, rd.seq, rd.start.Format("15:04:05.000"), d.end.Format("15:04:05.000"))
		}
	}
	return ""
}

// checkFinal compares, for every key, the last acknowledged upload, what
// storage holds and what the gallery serves (twice: loaded, then cached).
func (w *chaosWorkload) checkFinal(t *testing.T, dsn, blobsURL string) {
	t.Helper()
	ctx := t.Context()
	blobStore, err := store.OpenBlobs(ctx, blobsURL)
	if err != nil {
		t.Fatal(err)
	}
	lib := store.NewLibrary(storetest.Open(t, dsn), blobStore, nil)
	var lost, differ int
	for key := range w.keys {
		stored := int64(-1)
		if _, data, err := lib.Load(ctx, chaosKey(key)); err == nil {
			_, stored, _ = decodeChaosPNG(data)
		}
		if last := w.lastAcked(key); last != nil && !w.deletedAfter(last.start, time.Now()) && stored < last.seq {
			lost++
			t.Errorf("%s: upload #%d was acknowledged, storage holds #%d", chaosKey(key), last.seq, stored)
		}
		for range 2 {
			found, data, err := w.fetch(key)
			served := int64(-1)
			if found {
				_, served, _ = decodeChaosPNG(data)
			}
			if err != nil || served != stored {
				differ++
				t.Errorf("%s: the gallery serves #%d (%v), storage holds #%d", chaosKey(key), served, err, stored)
				break
			}
		}
	}
	t.Logf("end: %d keys, %d acknowledged uploads lost, %d served differently from storage", w.keys, lost, differ)
}

func (w *chaosWorkload) lastAcked(key int) *chaosUpload {
	w.mu.Lock()
	defer w.mu.Unlock()
	us := w.uploads[key]
	for i := len(us) - 1; i >= 0; i-- {
		if us[i].acked {
			return &us[i]
		}
	}
	return nil
}
