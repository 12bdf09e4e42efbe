package handlers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/internal/testimg"
)

// Slow clients over real loopback TCP: each test client writes its
// request by hand, at the pace it chooses, and reads the answer while it
// writes, as a browser on a bad link (or an attacker) would.

// uploadRequest is a multipart upload of data under key to path, as the
// bytes a client sends: the head, then the body.
func uploadRequest(t testing.TB, host, path, key string, data []byte) (head, body []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("key", key)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(data)
	mw.Close()
	head = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, host, mw.FormDataContentType(), b.Len())
	return head, b.Bytes()
}

// paced is how a slow client sends its body: chunk bytes every every;
// after stopAfter bytes (when > 0) it stalls, keeping the connection open.
type paced struct {
	chunk     int
	every     time.Duration
	stopAfter int
}

// slowAnswer is what a slow client got.
type slowAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error // the answer could not be read
	// closed: the body was not sent whole, and the server closed the
	// connection after answering.

	sent     int           // body bytes written
	after    time.Duration // from the last byte written to the answer
	took     time.Duration // from the first byte of the request to the answer
	closed   bool
	closedIn time.Duration // how long after the answer it was seen closed
}

func (a slowAnswer) result() result { return result{status: a.status, header: a.header, body: a.body} }

// slowUpload sends an upload to base over its own connection at pace p,
// and returns the answer when it comes (on the channel, so that several
// run at once).
func slowUpload(t testing.TB, base, path, key string, data []byte, p paced) <-chan slowAnswer {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head, body := uploadRequest(t, u.Host, path, key, data)
	out := make(chan slowAnswer, 1)
	answered := make(chan struct{})
	type progress struct {
		sent int
		last time.Time
	}
	sent := make(chan progress, 1)
	start := time.Now()
	go func() { // the writer
		if _, err := conn.Write(head); err != nil {
			sent <- progress{0, time.Now()}
			return
		}
		n, last := 0, time.Now()
		defer func() { sent <- progress{n, last} }()
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		for n < len(body) && (p.stopAfter <= 0 || n < p.stopAfter) {
			end := min(len(body), n+p.chunk)
			if p.stopAfter > 0 {
				end = min(end, p.stopAfter)
			}
			if _, err := conn.Write(body[n:end]); err != nil {
				return // the server answered and closed
			}
			n, last = end, time.Now()
			if n == len(body) {
				return
			}
			select {
			case <-tick.C:
			case <-answered:
				return
			}
		}
	}()
	go func() { // the reader
		a := slowAnswer{}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		at := time.Now()
		close(answered)
		if err == nil {
			a.status, a.header = resp.StatusCode, resp.Header
			a.body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		pr := <-sent
		a.err, a.sent, a.after, a.took = err, pr.sent, at.Sub(pr.last), at.Sub(start)
		if err == nil && a.sent < len(body) {
			// A body the server did not read to its end leaves the
			// connection unusable: the server must close it, so one more
			// read ends (EOF, or a reset) within a few seconds.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, rerr := conn.Read(make([]byte, 1))
			a.closed = rerr != nil && !isTimeout(rerr)
			a.closedIn = time.Since(at)
		}
		out <- a
	}()
	return out
}

// waitAnswer waits for a slow client's answer, failing after limit.
func waitAnswer(t *testing.T, ch <-chan slowAnswer, limit time.Duration) slowAnswer {
	t.Helper()
	select {
	case a := <-ch:
		if a.err != nil {
			t.Fatalf("reading the answer: %v (after %d body bytes)", a.err, a.sent)
		}
		return a
	case <-time.After(limit):
		t.Fatalf("no answer in %s", limit)
	}
	return slowAnswer{}
}

// slowSetup is a gallery behind bodies paced at 32 KiB/s with 1 s stalls,
// taking uploads of up to 1 MiB.
func slowSetup(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t, setup{maxUpload: 1 << 20})
	srv := f.protectedGallery(t, openAPI, Protection{Bodies: BodyPace{MinRate: 32 << 10, Stall: time.Second}})
	return f, srv.URL
}

const tooSlowMessage = "The upload arrived too slowly (under 32 KiB/s for more than 1s), so the server stopped waiting; nothing was changed. Try again on a faster connection."

// TestStalledUploadCutOff: an upload that stops sending halfway is
// answered 408 (the test API's JSON; a message in the page) about a
// second after its last bytes, its connection is closed, and nothing is
// stored. Today's server waited for ever.
func TestStalledUploadCutOff(t *testing.T) {
	f, base := slowSetup(t)
	img := testimg.NoisePNG(t, 256, 256, 1) // about 260 KB
	stall := paced{chunk: 16 << 10, every: 20 * time.Millisecond, stopAfter: 100 << 10}

	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "stalled", img, stall), 10*time.Second)
	checkAPIError(t, a.result(), http.StatusRequestTimeout, tooSlowMessage)
	if a.sent != 100<<10 || a.after < 900*time.Millisecond || a.after > 8*time.Second {
		t.Errorf("API: answered %s after the last of %d bytes, want about 1 s after 100 KiB", a.after, a.sent)
	}
	if !a.closed {
		t.Errorf("API: the connection stayed open %s after the answer", a.closedIn)
	}

	a = waitAnswer(t, slowUpload(t, base, "/upload", "stalled", img, stall), 10*time.Second)
	if a.status != http.StatusOK || !strings.Contains(string(a.body), tooSlowMessage) {
		t.Errorf("page: %d, want 200 with %q in the page:\n%.300s", a.status, tooSlowMessage, a.body)
	}
	if !a.closed {
		t.Errorf("page: the connection stayed open %s after the answer", a.closedIn)
	}
	if got := f.images.keys(); len(got) != 0 {
		t.Errorf("stored keys %q, want none", got)
	}
}

// TestTricklingUploadCutOff: an upload that keeps sending, but at a
// quarter of the minimum rate, is cut off too, soon after it falls a
// second behind.
func TestTricklingUploadCutOff(t *testing.T) {
	f, base := slowSetup(t)
	img := testimg.NoisePNG(t, 256, 256, 2)
	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "trickle", img, paced{chunk: 800, every: 100 * time.Millisecond}), 10*time.Second)
	checkAPIError(t, a.result(), http.StatusRequestTimeout, tooSlowMessage)
	// 8 KB/s against 32 KiB/s: the second of credit runs out after about
	// 1.3 s; the body is 30 times longer than what arrived by then.
	if a.took < time.Second || a.took > 10*time.Second || a.sent >= len(img)/2 {
		t.Errorf("answered after %s and %d bytes, want after about 1.3 s", a.took, a.sent)
	}
	if !a.closed {
		t.Error("the connection stayed open")
	}
	if got := f.images.keys(); len(got) != 0 {
		t.Errorf("stored keys %q, want none", got)
	}
}

// TestSlowHonestUploadPasses: the pace is a minimum rate, not a deadline:
// an upload at five times the minimum rate that lasts longer than the
// longest stall (as the largest upload on a slow link does) is stored.
func TestSlowHonestUploadPasses(t *testing.T) {
	f := newFixture(t, setup{maxUpload: 1 << 20})
	base := f.protectedGallery(t, openAPI, Protection{Bodies: BodyPace{MinRate: 16 << 10, Stall: 2 * time.Second}}).URL
	img := testimg.NoisePNG(t, 240, 240, 3) // about 231 KB: 2.9 s at 80 KB/s
	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "honest", img, paced{chunk: 8000, every: 100 * time.Millisecond}), 30*time.Second)
	checkJSON(t, a.result(), http.StatusOK, okKey("honest"))
	if a.took < 2*time.Second {
		t.Errorf("the upload took %s; the test wants it to last longer than the longest stall, 2 s", a.took)
	}
	if row, ok := f.images.row("honest"); !ok || !bytes.Equal(row.data, img) {
		t.Error("the image was not stored whole")
	}
}

// busyMessage is the refusal of an upload that found no slot.
const busyMessage = "Too many uploads are arriving at once; nothing was changed. Try again in a few seconds."

// waitSlotsTaken waits until n upload slots are taken.
func waitSlotsTaken(t *testing.T, s *UploadSlots, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.slots) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d upload slots taken after 10 s, want %d", len(s.slots), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUploadSlotsFull: with every slot held by an upload in progress,
// another upload waits briefly, then is refused with 503 and Retry-After
// (JSON on /api, text on the page) without being read; small requests
// still pass. When the holders are cut off, uploads work again.
func TestUploadSlotsFull(t *testing.T) {
	slots := NewUploadSlots(2, 300*time.Millisecond)
	f := newFixture(t, setup{maxUpload: 1 << 20})
	// The holders may stall 4 s: long enough for the refusals below to
	// happen while they hold their slots, even on a busy machine.
	base := f.protectedGallery(t, openAPI, Protection{Uploads: slots, Bodies: BodyPace{MinRate: 32 << 10, Stall: 4 * time.Second}}).URL
	img := testimg.NoisePNG(t, 256, 256, 4)
	hold := paced{chunk: 16 << 10, every: 10 * time.Millisecond, stopAfter: 50 << 10}
	holders := []<-chan slowAnswer{
		slowUpload(t, base, "/api/upload", "held-1", img, hold),
		slowUpload(t, base, "/upload", "held-2", img, hold),
	}
	waitSlotsTaken(t, slots, 2)

	fast := paced{chunk: 64 << 10, every: time.Millisecond}
	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "third", img, fast), 5*time.Second)
	checkAPIError(t, a.result(), http.StatusServiceUnavailable, busyMessage)
	if got := a.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	if a.took < 300*time.Millisecond {
		t.Errorf("refused after %s, want after waiting 300 ms for a slot", a.took)
	}
	a = waitAnswer(t, slowUpload(t, base, "/upload", "third", img, fast), 5*time.Second)
	if a.status != http.StatusServiceUnavailable || string(a.body) != busyMessage+"\n" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
		t.Errorf("page: %d %s %q, want 503 in text", a.status, a.header.Get("Content-Type"), a.body)
	}
	// Small bodies need no slot.
	checkJSON(t, upload(t, base, "/api/upload", "small", testimg.PNG(t, 2, 2)), http.StatusOK, okKey("small"))
	checkJSON(t, postForm(t, base+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":["small"]}`)

	for i, h := range holders {
		a := waitAnswer(t, h, 10*time.Second)
		if i == 0 {
			checkAPIError(t, a.result(), http.StatusRequestTimeout, "The upload arrived too slowly (under 32 KiB/s for more than 4s), so the server stopped waiting; nothing was changed. Try again on a faster connection.")
		} else if a.status != http.StatusOK || !strings.Contains(string(a.body), "The upload arrived too slowly") {
			t.Errorf("page holder: %d, want the page saying it was too slow", a.status)
		}
	}
	waitSlotsTaken(t, slots, 0)
	checkJSON(t, upload(t, base, "/api/upload", "after", img), http.StatusOK, okKey("after"))
	if got := f.images.keys(); len(got) != 2 {
		t.Errorf("keys %q, want [after small]", got)
	}
}

// TestManyStalledUploads is the review's attack: 30 uploads that stall
// halfway. No more are read at once than there are slots (so no more
// hold memory), the others are refused after a short wait, and every
// one is answered and its connection closed within seconds.
func TestManyStalledUploads(t *testing.T) {
	slots := NewUploadSlots(4, 200*time.Millisecond)
	f := newFixture(t, setup{maxUpload: 1 << 20})
	var mu sync.Mutex
	reading, most := 0, 0
	router := f.galleryParts(openAPI, Protection{}).Handler()
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reading++
		most = max(most, reading)
		mu.Unlock()
		defer func() { mu.Lock(); reading--; mu.Unlock() }()
		router.ServeHTTP(w, r)
	})
	prot := Protection{Uploads: slots, Bodies: BodyPace{MinRate: 32 << 10, Stall: time.Second}}
	base := serveTest(t, prot.Wrap(counted), nil).URL
	img := testimg.NoisePNG(t, 256, 256, 5)
	var answers []<-chan slowAnswer
	for i := range 30 {
		answers = append(answers, slowUpload(t, base, "/api/upload", fmt.Sprint("stalled-", i), img, paced{chunk: 16 << 10, every: 5 * time.Millisecond, stopAfter: 100 << 10}))
	}
	codes := map[int]int{}
	for _, ch := range answers {
		a := waitAnswer(t, ch, 30*time.Second)
		codes[a.status]++
		if !a.closed {
			t.Errorf("a %d answer left its connection open", a.status)
		}
	}
	// How many were read and cut off depends on when each arrived (a slot
	// freed by a cut-off upload takes the next); every answer is one of
	// the two, and most are refused.
	if codes[http.StatusRequestTimeout] < 4 || codes[http.StatusServiceUnavailable] < 15 || codes[http.StatusRequestTimeout]+codes[http.StatusServiceUnavailable] != 30 {
		t.Errorf("answers %v, want 30 answers 408 (at least 4) or 503 (most)", codes)
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 4 {
		t.Errorf("%d uploads were read at once, want the 4 slots' worth", most)
	}
	if got := f.images.keys(); len(got) != 0 {
		t.Errorf("stored keys %q, want none", got)
	}
}

// TestBodyPaceReadTimeout: however well a body keeps pace, it may not
// take longer than the read timeout to arrive.
func TestBodyPaceReadTimeout(t *testing.T) {
	f := newFixture(t, setup{maxUpload: 1 << 20})
	prot := Protection{Bodies: BodyPace{MinRate: 16 << 10, Stall: 2 * time.Second, ReadTimeout: 1500 * time.Millisecond}}
	base := serveTest(t, f.galleryParts(openAPI, prot).Handler(), nil).URL
	img := testimg.NoisePNG(t, 240, 240, 6) // 2.9 s at 80 KB/s
	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "long", img, paced{chunk: 8000, every: 100 * time.Millisecond}), 10*time.Second)
	checkAPIError(t, a.result(), http.StatusRequestTimeout, "The request took longer than 1.5s to arrive, the server's limit, so it stopped waiting; nothing was changed. Try again on a faster connection.")
	if a.took < 1400*time.Millisecond || a.took > 8*time.Second {
		t.Errorf("answered after %s, want after about 1.5 s", a.took)
	}
}

// TestBodyPaceGivesTheAnswerItsTime: the server's write timeout counts
// from the request's headers; an upload that took longer than it to
// arrive still gets its answer, which has the write timeout from the
// body's last byte.
func TestBodyPaceGivesTheAnswerItsTime(t *testing.T) {
	f := newFixture(t, setup{maxUpload: 1 << 20})
	prot := Protection{Bodies: BodyPace{MinRate: 16 << 10, Stall: 2 * time.Second, WriteTimeout: 2 * time.Second}}
	base := serveTest(t, f.galleryParts(openAPI, prot).Handler(), func(s *http.Server) { s.WriteTimeout = 2 * time.Second }).URL
	img := testimg.NoisePNG(t, 256, 256, 7) // 3.3 s at 80 KB/s
	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "answered", img, paced{chunk: 8000, every: 100 * time.Millisecond}), 10*time.Second)
	checkJSON(t, a.result(), http.StatusOK, okKey("answered"))
}

// TestRefusedSmallUploadIsAnswered: an upload refused for want of a slot
// is answered at once even when it stalls and its body is small enough
// (under 256 KiB) that net/http would otherwise read it to its end before
// sending the refusal.
func TestRefusedSmallUploadIsAnswered(t *testing.T) {
	f := newFixture(t, setup{maxUpload: 1 << 20})
	prot := Protection{Uploads: NewUploadSlots(1, 100*time.Millisecond), Bodies: BodyPace{MinRate: 32 << 10, Stall: 5 * time.Second}}
	base := serveTest(t, f.galleryParts(openAPI, prot).Handler(), nil).URL
	img := testimg.NoisePNG(t, 200, 200, 8) // about 120 KB
	stall := paced{chunk: 16 << 10, every: 5 * time.Millisecond, stopAfter: 80 << 10}
	holder := slowUpload(t, base, "/api/upload", "holds-the-slot", img, stall)
	time.Sleep(50 * time.Millisecond) // the holder takes the one slot
	a := waitAnswer(t, slowUpload(t, base, "/api/upload", "refused", img, stall), 3*time.Second)
	if a.status != http.StatusServiceUnavailable || !a.closed {
		t.Errorf("the refused upload: %d, connection closed %v; want 503 and closed", a.status, a.closed)
	}
	waitAnswer(t, holder, 10*time.Second)
}
