package main

// Browser tests: Debian's chromium, driven by chromedp, against `picpool dev`
// on loopback. They upload through the gallery's page and find the image
// again, and they operate the manager: log in, configure the nodes, resize
// the pool to both limits, clear the cache, and watch a chart follow the
// traffic without reloading the page.
//
// Every wait polls a condition in the page with a deadline; nothing sleeps
// for a fixed time. On a failure the test saves a screenshot of the page
// (run with -artifacts -outputdir DIR to keep it) and logs the browser's
// console and the server's log.

import (
	"bytes"
	"context"
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
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/pool"
)

// browserTimeout bounds one browser test, from the browser's start to its end.
const browserTimeout = 150 * time.Second

// chromiumPath returns the browser to drive: $PICPOOL_TEST_CHROMIUM (set by
// CI), else chromium on PATH. Without one the test is skipped, saying why.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests start chromium and take tens of seconds: skipped under -short")
	}
	if p := os.Getenv("PICPOOL_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("PICPOOL_TEST_CHROMIUM=%q: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no browser: set PICPOOL_TEST_CHROMIUM or install Debian's chromium (apt-get install chromium)")
	return ""
}

// browser is one chromium tab under test, and the test that reports what
// it sees (see with).
type browser struct {
	t    *testing.T
	ctx  context.Context
	page *pageLog
}

// pageLog is what the pages' consoles said, and their uncaught exceptions;
// and the log of the server under test, shown too when a test fails.
type pageLog struct {
	mu         sync.Mutex
	console    []string
	exceptions []string
	refused    []string // what the content security policy refused
	server     *syncBuffer
}

// with returns the same tab reporting to t (a subtest).
func (b *browser) with(t *testing.T) *browser {
	c := *b
	c.t = t
	return &c
}

// newBrowser starts a headless chromium with a fresh temporary profile and
// opens a tab. The browser's context does not derive from t.Context: that
// one ends before the cleanups run, and the screenshot of a failure needs
// the tab alive.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these chromium dials the network on its own, and this
		// machine's closed network refuses it.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
		// No user-data-dir: chromedp makes a fresh temporary one and removes it.
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	stop := func() { bcancel(); acancel(); cancel() }
	if err := chromedp.Do(bctx); err != nil {
		stop()
		t.Fatalf("start %s: %v", path, err)
	}
	b := &browser{t: t, ctx: bctx, page: &pageLog{}}
	log := b.page
	messages := chromedp.Console(bctx) // subscribed now, before any page opens
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			log.mu.Lock()
			log.console = append(log.console, fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			if m.IsException() {
				log.exceptions = append(log.exceptions, m.Text)
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				log.refused = append(log.refused, m.Text)
			}
			log.mu.Unlock()
		}
	}()
	t.Cleanup(func() { stop(); <-consoleDone })
	// Registered last, so it runs first, while the tab is still open.
	t.Cleanup(func() {
		log.mu.Lock()
		exceptions, refused := slices.Clone(log.exceptions), slices.Clone(log.refused)
		log.mu.Unlock()
		if len(exceptions) > 0 {
			t.Errorf("the pages threw %d uncaught exceptions: %q", len(exceptions), exceptions)
		}
		if len(refused) > 0 {
			t.Errorf("the content security policy refused %d things the pages do, first: %q", len(refused), refused[0])
		}
		if !t.Failed() {
			return
		}
		b.screenshot("failure")
		log.mu.Lock()
		t.Logf("browser console:\n%s", strings.Join(log.console, "\n"))
		log.mu.Unlock()
		if log.server != nil {
			t.Logf("server log:\n%s", log.server.String())
		}
	})
	return b
}

// screenshot saves the whole page as a PNG in the test's artifact
// directory and logs where.
func (b *browser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is a PNG; less is a JPEG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot of the page: %s (kept with go test -artifacts -outputdir DIR)", path)
}

// do runs steps; what says what they do, for the failure message.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// navigate opens url and waits for the page to load, which must come
// with status 200 (after redirects) and the content security policy, so
// that every test runs its pages under the policy.
func (b *browser) navigate(url string) {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("open %s: status %d %s, want 200", url, resp.Status, resp.StatusText)
	}
	if csp, _ := resp.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "script-src 'self'") {
		b.t.Fatalf("open %s: Content-Security-Policy %q, want the pages' policy", url, csp)
	}
}

// submit clicks the element with the test id and waits for the page it
// loads (a plain form post, not htmx); it returns the document's status.
func (b *browser) submit(testid string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(byTestID(testid)))
	if err != nil {
		b.t.Fatalf("click %s and wait for the next page: %v", testid, err)
	}
	return resp.Status
}

// click clicks the element with the test id, as a user would with the mouse.
func (b *browser) click(testid string) {
	b.t.Helper()
	b.do("click "+testid, chromedp.Click(byTestID(testid)))
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is true in the page. On a
// timeout it fails, saying what it waited for and the messages the page
// shows (flash, field errors, upload result).
func (b *browser) waitJS(what string, timeout time.Duration, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		_, err = chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		// A form sent before htmx took it over is sent the way it is
		// without JavaScript: the page navigates to the answer, which
		// ends the poll on the page it started on. Poll the new page.
		if err == nil || !strings.Contains(err.Error(), "navigated or closed") || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll(
			'[data-testid=flash],[data-testid$="-error"],[data-testid=htmx-error],[data-testid=upload-result]')]
			.map(e => e.dataset.testid + ": " + e.textContent.trim()).filter(s => !s.endsWith(": ")).join("\n")`))
		b.t.Fatalf("%s: not seen within %s (%v); page %s shows:\n%s", what, timeout, err, b.location(), state)
	}
}

func (b *browser) location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

// text is the trimmed text of the element with the test id, "" when there
// is none.
func (b *browser) text(testid string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(%s?.textContent ?? "").trim()`, q(testid)))
}

// markPage leaves a mark in the page's window; samePage reports whether it
// is still there, that is whether the page was not reloaded since.
func (b *browser) markPage() {
	b.t.Helper()
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.picpoolTestMark = "not reloaded"`))
}

func (b *browser) samePage() bool {
	b.t.Helper()
	return eval[bool](b, `window.picpoolTestMark === "not reloaded"`)
}

// sel is the CSS selector of a test id.
func sel(testid string) string { return fmt.Sprintf(`[data-testid=%q]`, testid) }

func byTestID(testid string) chromedp.CSS { return chromedp.CSS(sel(testid)) }

// q is the JavaScript expression of the element with the test id.
func q(testid string) string { return fmt.Sprintf(`document.querySelector(%s)`, jsString(sel(testid))) }

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// testPNG returns a w×h PNG of seeded noise: noise does not compress, so
// the upload is big enough (w·h·4 bytes) for the progress bar to move.
func testPNG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	for x := range w { // an opaque top row, so the image is never all clear
		img.Set(x, 0, color.NRGBA{0x2f, 0x6f, 0xde, 0xff})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// apiClient drives the test API as a scripted client would: plain
// net/http, no browser session.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: 10 * time.Second}}
}

// post sends a POST and checks the answer is {"success":"true",...}.
func (c *apiClient) post(t *testing.T, path, contentType string, body io.Reader) {
	t.Helper()
	resp, err := c.http.Post(c.base+path, contentType, body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var got struct {
		Success string `json:"success"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != http.StatusOK || got.Success != "true" {
		t.Fatalf("POST %s = %d %s, want 200 and success true", path, resp.StatusCode, raw)
	}
}

// upload stores data under key through POST /api/upload.
func (c *apiClient) upload(t *testing.T, key string, data []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", key)
	fw, _ := mw.CreateFormFile("file", "image.png")
	fw.Write(data)
	mw.Close()
	c.post(t, "/api/upload", mw.FormDataContentType(), &body)
}

// read asks for key through POST /api/key/<key>.
func (c *apiClient) read(t *testing.T, key string) {
	t.Helper()
	c.post(t, "/api/key/"+url.PathEscape(key), "application/x-www-form-urlencoded", nil)
}

// TestBrowserGallery uploads through the gallery's page (refused files
// and keys first), sees the image with its cache badge, and finds the key
// in the list and through the prefix filter.
func TestBrowserGallery(t *testing.T) {
	b := newBrowser(t) // first: it skips when there is no browser
	dev := startDevServers(t, "--concurrent-uploads", "1")
	b.page.server = dev.log
	api := newAPIClient(dev.gallery)
	dir := t.TempDir()
	const catW, catH = 320, 240
	cat := writeTestFile(t, dir, "cat.png", testPNG(t, catW, catH, 1))
	notes := writeTestFile(t, dir, "notes.txt", []byte("a text file, not an image\n"))
	fake := writeTestFile(t, dir, "fake.png", []byte("text in a file named like a PNG\n"))
	// One image stored by a scripted client, never read: its first show is
	// a miss.
	api.upload(t, "browser-dog-1", testPNG(t, 64, 48, 2))

	b.navigate(dev.gallery + "/upload")
	b.markPage()
	// Count the requests htmx sends, and the fields the browser finds
	// invalid (a form with an invalid field is never submitted).
	b.do("watch the form", chromedp.Evaluate[chromedp.Void](`
		window.picpoolRequests = 0;
		window.picpoolInvalid = [];
		document.body.addEventListener("htmx:beforeRequest", () => window.picpoolRequests++);
		document.addEventListener("invalid", e => window.picpoolInvalid.push(e.target.dataset.testid), true);`))

	t.Run("a text file is refused in the page", func(t *testing.T) {
		b := b.with(t)
		b.do("choose a text file",
			chromedp.SetValue(byTestID("upload-key"), "browser-cat-1"),
			chromedp.SetUploadFiles(byTestID("upload-file"), []string{notes}))
		const want = "That is not a PNG, JPEG, GIF or WebP image."
		b.waitJS("the file's error", 5*time.Second, fmt.Sprintf(`%s.textContent === %s`, q("upload-file-error"), jsString(want)))
		b.click("upload-submit")
		b.waitJS("the browser blocks the form", 5*time.Second, `window.picpoolInvalid.includes("upload-file")`)
		if n := eval[int](b, `window.picpoolRequests`); n != 0 {
			t.Errorf("htmx sent %d requests for a text file, want none", n)
		}
	})

	t.Run("a text file named .png is refused by the server", func(t *testing.T) {
		b := b.with(t)
		b.do("choose fake.png", chromedp.SetUploadFiles(byTestID("upload-file"), []string{fake}))
		b.waitJS("the page's check passes", 5*time.Second, q("upload-file-error")+`.textContent === ""`)
		b.click("upload-submit")
		const want = "The file is not a PNG, JPEG, GIF or WebP image (it looks like text/plain)."
		b.waitJS("the server's refusal next to the file", 10*time.Second,
			fmt.Sprintf(`%s.textContent === %s`, q("upload-file-error"), jsString(want)))
		if got := eval[int](b, `window.picpoolRequests`); got != 1 {
			t.Errorf("htmx sent %d requests, want 1", got)
		}
		if got := b.text("upload-key-error"); got != "" {
			t.Errorf("key error = %q, want none", got)
		}
		if eval[bool](b, q("upload-saved")+` !== null`) {
			t.Error("the refused upload shows as saved")
		}
		if got := eval[string](b, q("upload-key")+`.value`); got != "browser-cat-1" {
			t.Errorf("key field = %q after the refusal, want what was typed, browser-cat-1", got)
		}
		if !b.samePage() {
			t.Error("the refusal reloaded the page, want it shown in place")
		}
	})

	t.Run("a key with a slash is refused next to the key", func(t *testing.T) {
		b := b.with(t)
		b.do("choose cat.png under a bad key",
			chromedp.SetValue(byTestID("upload-key"), "bad/key"),
			chromedp.SetUploadFiles(byTestID("upload-file"), []string{cat}))
		b.click("upload-submit")
		const want = `The key cannot contain "/".`
		b.waitJS("the key's error", 10*time.Second, fmt.Sprintf(`%s.textContent === %s`, q("upload-key-error"), jsString(want)))
		if got := b.text("upload-file-error"); got != "" {
			t.Errorf("file error = %q, want the previous one cleared", got)
		}
		if n := eval[int](b, q("upload-file")+`.files.length`); n != 1 {
			t.Errorf("the file field holds %d files after a refused key, want the chosen file kept", n)
		}
		if !b.samePage() {
			t.Error("the refusal reloaded the page, want it shown in place")
		}
	})

	if !t.Run("upload through the file field", func(t *testing.T) {
		b := b.with(t)
		// Record what the progress bar does while the form is sent;
		// upload.js's listeners were added first, so they have run.
		b.do("watch the progress bar", chromedp.Evaluate[chromedp.Void](`(() => {
			const form = document.querySelector('[data-testid="upload-form"]');
			const box = form.querySelector('[data-testid="upload-progress"]');
			const p = window.picpoolProgress = {shown: false, max: 0, percent: "", hiddenAfter: false};
			form.addEventListener("htmx:beforeRequest", () => { p.shown = !box.hidden; });
			form.addEventListener("htmx:xhr:progress", () => {
				p.max = Math.max(p.max, box.querySelector("progress").value);
				p.percent = box.querySelector("[data-upload-percent]").textContent;
			});
			form.addEventListener("htmx:afterRequest", () => { p.hiddenAfter = box.hidden; });
		})()`))
		b.do("choose cat.png under a good key",
			chromedp.SetValue(byTestID("upload-key"), "browser-cat-1"),
			chromedp.SetUploadFiles(byTestID("upload-file"), []string{cat}))
		b.click("upload-submit")
		b.waitJS("the saved result", 15*time.Second, q("upload-saved")+` !== null`)
		if got := b.text("upload-saved-link"); got != "browser-cat-1" {
			t.Errorf("saved under %q, want browser-cat-1", got)
		}
		b.waitJS("the saved thumbnail loads", 10*time.Second, q("upload-saved-image")+`.complete && `+q("upload-saved-image")+`.naturalWidth > 0`)
		type progress struct {
			Shown       bool    `json:"shown"`
			Max         float64 `json:"max"`
			Percent     string  `json:"percent"`
			HiddenAfter bool    `json:"hiddenAfter"`
		}
		want := progress{Shown: true, Max: 100, Percent: "100 %", HiddenAfter: true}
		if diff := cmp.Diff(want, eval[progress](b, `window.picpoolProgress`)); diff != "" {
			t.Errorf("progress bar (-want +got):\n%s", diff)
		}
		// A saved upload empties the form for the next one.
		if got := eval[string](b, q("upload-key")+`.value + "|" + `+q("upload-file")+`.files.length`); got != "|0" {
			t.Errorf("form after saving = key|files %q, want it reset, |0", got)
		}
		if !b.samePage() {
			t.Error("the upload reloaded the page, want the result shown in place")
		}
	}) {
		return
	}

	if !t.Run("upload by dropping a file", func(t *testing.T) {
		b := b.with(t)
		// The drop carries a PNG that the page draws on a canvas: what a
		// file dragged from the desktop gives the drop handler.
		b.do("drop a PNG on the drop zone", chromedp.Evaluate[chromedp.Void](`(async () => {
			const canvas = document.createElement("canvas");
			canvas.width = 40; canvas.height = 30;
			const g = canvas.getContext("2d");
			g.fillStyle = "#d9480f"; g.fillRect(0, 0, 40, 30);
			const blob = await new Promise(resolve => canvas.toBlob(resolve, "image/png"));
			const dt = new DataTransfer();
			dt.items.add(new File([blob], "dropped.png", {type: "image/png"}));
			const zone = document.querySelector('[data-testid="upload-dropzone"]');
			zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
			zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		})()`, chromedp.EvalAwaitPromise))
		if got := b.text("upload-file-name"); !strings.HasPrefix(got, "dropped.png · ") {
			t.Errorf("file name shown = %q, want dropped.png and its size", got)
		}
		b.do("type the key", chromedp.SetValue(byTestID("upload-key"), "browser-cat-2"))
		b.click("upload-submit")
		b.waitJS("the saved result", 15*time.Second, fmt.Sprintf(`%s?.textContent.trim() === "browser-cat-2"`, q("upload-saved-link")))
	}) {
		return
	}

	t.Run("too many uploads at once", func(t *testing.T) {
		b := b.with(t)
		// Another client's upload stalls in the only slot: the page's
		// upload waits for it, then says why it was refused.
		holder := startStalledUpload(t, dev.gallery, 200)
		b.do("choose cat.png",
			chromedp.SetValue(byTestID("upload-key"), "browser-cat-3"),
			chromedp.SetUploadFiles(byTestID("upload-file"), []string{cat}))
		b.click("upload-submit")
		const want = "Too many uploads are arriving at once; nothing was changed. Try again in a few seconds."
		b.waitJS("the refusal", 15*time.Second, fmt.Sprintf(`%s.textContent === %s && !%s.hidden`, q("htmx-error"), jsString(want), q("htmx-error")))
		holder.Close()
	})

	t.Run("show", func(t *testing.T) {
		b := b.with(t)
		tests := []struct {
			key     string
			width   int
			hit     string // data-hit of the badge
			badge   string
			comment string
		}{
			{"browser-dog-1", 64, "false", "Cache miss", "stored by the API and never read"},
			{"browser-dog-1", 64, "true", "Cache hit", "the first show put it in the pool"},
			{"browser-cat-1", catW, "true", "Cache hit", "the upload's thumbnail was read"},
		}
		for _, tt := range tests {
			b.navigate(dev.gallery + "/show?key=" + url.QueryEscape(tt.key))
			b.waitJS("the image "+tt.key+" loads", 10*time.Second, q("show-image")+`?.complete && `+q("show-image")+`.naturalWidth > 0`)
			if got := eval[int](b, q("show-image")+`.naturalWidth`); got != tt.width {
				t.Errorf("%s: image width = %d, want %d", tt.key, got, tt.width)
			}
			got := eval[string](b, q("cache-badge")+`.dataset.hit + "|" + `+q("cache-badge")+`.textContent.trim()`)
			if want := tt.hit + "|" + tt.badge; got != want {
				t.Errorf("%s (%s): badge = %q, want %q", tt.key, tt.comment, got, want)
			}
			if got := b.text("show-latency"); got == "" {
				t.Errorf("%s: no latency shown", tt.key)
			}
			if got := b.text("show-type"); got != "image/png" {
				t.Errorf("%s: type = %q, want image/png", tt.key, got)
			}
		}
		b.navigate(dev.gallery + "/show?key=browser-nobody")
		if got := eval[bool](b, q("show-not-found")+` !== null && `+q("show-image")+` === null`); !got {
			t.Error("a key with no image: want show-not-found and no image")
		}
	})

	t.Run("keys", func(t *testing.T) {
		b := b.with(t)
		b.navigate(dev.gallery + "/keys")
		keys := func() []string {
			return eval[[]string](b, `[...document.querySelectorAll('[data-testid="key-item"]')].map(e => e.dataset.key)`)
		}
		if diff := cmp.Diff([]string{"browser-cat-2", "browser-cat-1", "browser-dog-1"}, keys()); diff != "" {
			t.Errorf("keys, newest first (-want +got):\n%s", diff)
		}
		b.waitJS("every thumbnail loads", 10*time.Second,
			`[...document.querySelectorAll('[data-testid="key-thumb"]')].every(img => img.complete && img.naturalWidth > 0)`)
		// At 1× density the browser picks the 160 px rendition.
		if got := eval[int](b, `document.querySelector('[data-key="browser-cat-1"] [data-testid="key-thumb"]').naturalWidth`); got != 160 {
			t.Errorf("browser-cat-1's thumbnail is %d wide, want the 160 px rendition of the %d px image", got, catW)
		}

		b.markPage()
		b.do("type a prefix", chromedp.SendKeys(byTestID("keys-prefix"), "browser-c"))
		b.waitJS("the list filtered", 10*time.Second, `[...document.querySelectorAll('[data-testid="key-item"]')].length === 2`)
		if diff := cmp.Diff([]string{"browser-cat-2", "browser-cat-1"}, keys()); diff != "" {
			t.Errorf("keys starting with browser-c (-want +got):\n%s", diff)
		}
		if loc := b.location(); !strings.HasSuffix(loc, "/keys?prefix=browser-c") {
			t.Errorf("address = %s, want the filter in it (/keys?prefix=browser-c)", loc)
		}
		b.do("type more", chromedp.SendKeys(byTestID("keys-prefix"), "zz"))
		b.waitJS("no key matches", 10*time.Second, q("keys-empty")+` !== null`)
		if !b.samePage() {
			t.Error("filtering reloaded the page, want the list swapped in place")
		}
	})
}

// configPanel is what the manager's configuration page shows of the pool.
type configPanel struct {
	FlashKind string   `json:"flashKind"`
	Flash     string   `json:"flash"`
	Size      string   `json:"size"`
	Capacity  string   `json:"capacity"`
	Policy    string   `json:"policy"`
	Nodes     []string `json:"nodes"` // per node row: "health|items|capacity"
}

// readPanel reads the configuration page.
func (b *browser) readPanel() configPanel {
	b.t.Helper()
	return eval[configPanel](b, `(() => {
		const text = id => (document.querySelector('[data-testid="' + id + '"]')?.textContent ?? "").trim();
		const flash = document.querySelector('[data-testid="flash"]');
		return {
			flashKind: flash?.dataset.kind ?? "", flash: text("flash"),
			size: text("pool-size"), capacity: text("pool-capacity"), policy: text("pool-policy"),
			nodes: [...document.querySelectorAll('[data-testid="node-row"]')].map(r =>
				[r.dataset.healthy, r.querySelector('[data-testid="node-items"]').textContent.trim(),
				 r.querySelector('[data-testid="node-capacity"]').textContent.trim()].join("|")),
		};
	})()`)
}

// post clicks a submit button of the configuration page and waits until
// htmx has swapped the panel for the answer.
func (b *browser) post(button string) configPanel {
	b.t.Helper()
	b.do("mark the panel", chromedp.Evaluate[chromedp.Void](`document.getElementById("config").picpoolOld = true`))
	b.click(button)
	b.waitJS("the answer to "+button, 20*time.Second,
		`document.getElementById("config") && !document.getElementById("config").picpoolOld && !document.querySelector(".htmx-request")`)
	return b.readPanel()
}

// nodeRows returns n node rows as readPanel writes them.
func nodeRows(n int, row string) []string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = row
	}
	return rows
}

// TestBrowserManager logs in to the manager, configures the nodes, grows
// the pool to 8 and shrinks it to 1 a step at a time (seeing both
// refusals), clears the cache behind its confirmation, and watches a chart
// take in new traffic without a reload, keeping its zoom.
func TestBrowserManager(t *testing.T) {
	const password = "browser-test-password"
	b := newBrowser(t)
	dev := startDevServers(t, "--manager-password", password)
	b.page.server = dev.log
	api := newAPIClient(dev.gallery)

	// hx-confirm asks with window.confirm: accept it, as the operator would.
	var dialogsMu sync.Mutex
	var dialogs []string
	dialogEvents := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogEvents {
			if err != nil {
				return
			}
			dialogsMu.Lock()
			dialogs = append(dialogs, ev.Message)
			dialogsMu.Unlock()
			chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	if !t.Run("login", func(t *testing.T) {
		b := b.with(t)
		b.navigate(dev.manager + "/")
		if loc := b.location(); loc != dev.manager+"/login" {
			t.Fatalf("the manager without a session opened %s, want %s/login", loc, dev.manager)
		}
		b.do("type a wrong password", chromedp.SendKeys(byTestID("login-password"), "not-the-password"))
		if status := b.submit("login-submit"); status != http.StatusUnauthorized {
			t.Errorf("wrong password: status %d, want 401", status)
		}
		if got := b.text("login-error"); got != "Wrong password." {
			t.Errorf("wrong password: message %q, want %q", got, "Wrong password.")
		}
		if eval[bool](b, q("config")+` !== null`) {
			t.Fatal("a wrong password opened the configuration")
		}
		b.do("type the password", chromedp.SendKeys(byTestID("login-password"), password))
		if status := b.submit("login-submit"); status != http.StatusOK {
			t.Errorf("right password: status %d, want 200", status)
		}
		if loc := b.location(); loc != dev.manager+"/" {
			t.Errorf("after logging in the browser is at %s, want %s/", loc, dev.manager)
		}
		want := configPanel{Size: "2", Capacity: "64 MB", Policy: cache.PolicyLabel(cache.DefaultPolicy), Nodes: nodeRows(2, "true|0|64 MiB")}
		if diff := cmp.Diff(want, b.readPanel()); diff != "" {
			t.Fatalf("configuration page (-want +got):\n%s", diff)
		}
	}) {
		return
	}

	// panel is the configuration page once the nodes have 32 MB and random
	// replacement: n healthy nodes holding items each, under the flash.
	panel := func(kind, flash string, n int, items int) configPanel {
		label := cache.PolicyLabel("random")
		return configPanel{FlashKind: kind, Flash: flash, Size: fmt.Sprint(n), Capacity: "32 MB", Policy: label,
			Nodes: nodeRows(n, fmt.Sprintf("true|%d|32 MiB", items))}
	}

	if !t.Run("capacity and policy", func(t *testing.T) {
		b := b.with(t)
		b.do("fill the cache form",
			chromedp.SetValue(byTestID("cache-capacity"), "32"),
			chromedp.SetValue(byTestID("cache-policy"), "random"))
		want := panel("success", "Every node now has 32 MB with "+cache.PolicyLabel("random")+".", 2, 0)
		if diff := cmp.Diff(want, b.post("cache-submit")); diff != "" {
			t.Errorf("after applying 32 MB and random (-want +got):\n%s", diff)
		}
	}) {
		return
	}

	// One step at a time to each limit, and one step more.
	for _, tt := range []struct {
		name    string
		button  string
		step    int
		limit   int
		refusal string
	}{
		{"grow", "grow-submit", +1, pool.MaxNodes, "The pool already has 8 nodes, the maximum."},
		{"shrink", "shrink-submit", -1, pool.MinNodes, "The pool already has 1 node, the minimum."},
	} {
		if !t.Run(fmt.Sprintf("%s to %d", tt.name, tt.limit), func(t *testing.T) {
			b := b.with(t)
			n := eval[int](b, `Number(`+q("pool-size")+`.textContent)`)
			for n != tt.limit {
				got := b.post(tt.button)
				n += tt.step
				want := panel("success", fmt.Sprintf("The pool went from %s to %s; cached entries moved with their partitions.",
					nodesWord(n-tt.step), nodesWord(n)), n, 0)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%s to %d (-want +got):\n%s", tt.name, n, diff)
				}
			}
			if diff := cmp.Diff(panel("error", tt.refusal, n, 0), b.post(tt.button)); diff != "" {
				t.Errorf("%s at %d (-want +got):\n%s", tt.name, n, diff)
			}
		}) {
			return
		}
	}

	if !t.Run("clear cache", func(t *testing.T) {
		b := b.with(t)
		// Three images read once each: the one node holds three items.
		for i := range 3 {
			key := fmt.Sprintf("clear-%d", i)
			api.upload(t, key, testPNG(t, 16, 16, uint64(10+i)))
			api.read(t, key)
		}
		b.navigate(dev.manager + "/")
		if got, want := b.readPanel().Nodes, panel("", "", 1, 3).Nodes; !slices.Equal(got, want) {
			t.Fatalf("before clearing, nodes = %q, want %q", got, want)
		}
		b.click("clear-confirm")
		want := panel("success", "Every node's cache is empty. Images are still stored; the next reads load them again.", 1, 0)
		if diff := cmp.Diff(want, b.post("clear-submit")); diff != "" {
			t.Errorf("after clearing (-want +got):\n%s", diff)
		}
		dialogsMu.Lock()
		defer dialogsMu.Unlock()
		wantDialogs := []string{"Clear every cache node? Images stay stored; the next requests are misses."}
		if diff := cmp.Diff(wantDialogs, dialogs); diff != "" {
			t.Errorf("confirmations asked (-want +got):\n%s", diff)
		}
	}) {
		return
	}

	t.Run("stats follow the traffic", func(t *testing.T) {
		b := b.with(t)
		b.navigate(dev.manager + "/stats")
		const chart = `echarts.getInstanceByDom(document.getElementById("chart-requests"))`
		b.waitJS("the requests chart is drawn", 10*time.Second, `window.echarts && `+chart+` && `+chart+`.getOption().series[0].data.length > 0`)
		// The sum of the requests per minute over the whole window: new
		// traffic can only raise it (a minute that ends stays in the window).
		const requests = `(` + chart + `.getOption().series[0].data.reduce(
			(s, p) => s + ((Array.isArray(p) ? p : p.value)[1] ?? 0), 0))`
		b.markPage()
		b.do("zoom the requests chart", chromedp.Evaluate[chromedp.Void](`
			window.picpoolChart = `+chart+`;
			window.picpoolChart.dispatchAction({type: "dataZoom", start: 40, end: 100});`))
		before := eval[float64](b, requests)
		updated := b.text("stats-updated")

		// More lookups than everything before this point sent, so that only
		// this traffic can raise the sum by as much.
		const reads = 200
		api.upload(t, "traffic-0", testPNG(t, 16, 16, 20))
		api.upload(t, "traffic-1", testPNG(t, 16, 16, 21))
		for i := range reads {
			api.read(t, fmt.Sprintf("traffic-%d", i%2))
		}
		start := time.Now()
		b.waitJS(fmt.Sprintf("the requests chart takes in %d more requests", reads), 30*time.Second,
			fmt.Sprintf(`%s >= %v`, requests, before+reads))
		t.Logf("the chart showed the traffic %s after it ended", time.Since(start).Round(100*time.Millisecond))

		// "Miss rate by pool size" draws the pool's predicted curve, one
		// point per size from 1 to 8, which the traffic has given values.
		const curve = `echarts.getInstanceByDom(document.getElementById("chart-miss-curve"))`
		b.waitJS("the miss rate by pool size chart predicts every size", 30*time.Second, curve+` && `+curve+
			`.getOption().series[0].data.filter(p => typeof (Array.isArray(p) ? p : p.value)[1] === "number").length === 8`)
		if got := eval[string](b, `document.querySelector('[data-testid="chart-card-miss-curve"] h2').textContent`); got != "Miss rate by pool size" {
			t.Errorf("the curve chart's title is %q", got)
		}
		if got := eval[int](b, curve+`.getOption().series[1].data.length`); got != 1 {
			t.Errorf("the curve chart shows %d points for the pool now, want 1", got)
		}

		if !b.samePage() || !eval[bool](b, `window.picpoolChart === `+chart) {
			t.Error("the page or the chart was reloaded, want the data merged into the chart in place")
		}
		if got := b.text("stats-updated"); got == updated {
			t.Errorf("the update time stayed %q", got)
		}
		type zoom struct {
			Start float64 `json:"start"`
			End   float64 `json:"end"`
		}
		got := eval[[]zoom](b, chart+`.getOption().dataZoom.map(z => ({start: z.start, end: z.end}))`)
		if diff := cmp.Diff([]zoom{{40, 100}, {40, 100}}, got); diff != "" {
			t.Errorf("zoom of the requests chart after the update (-want +got):\n%s", diff)
		}

		// The tooltip shows under the content security policy (it is drawn
		// in the canvas; an HTML one would need inline styles).
		b.do("show the tooltip of the last minute", chromedp.Evaluate[chromedp.Void](`
			window.picpoolTip = false;
			window.picpoolChart.on("showTip", () => { window.picpoolTip = true; });
			window.picpoolChart.dispatchAction({type: "showTip", seriesIndex: 0,
				dataIndex: window.picpoolChart.getOption().series[0].data.length - 1});`))
		b.waitJS("the tooltip is shown", 5*time.Second, `window.picpoolTip === true`)
	})
}

// nodesWord is n and "node" or "nodes", as the manager writes it.
func nodesWord(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}
