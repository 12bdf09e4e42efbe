package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/testimg"
	"github.com/picpool/picpool/photo"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/scaling"
)

// The handlers' tests run on real parts where they exist: a real cache
// pool of node servers on loopback (pool.LocalProvider), real routers
// served over HTTP by httptest, built the way main's system.go builds
// them. Storage, settings and statistics are small in-memory fakes here;
// main's end-to-end tests cover the real store.

// testToken is the nodes' shared secret in these tests.
const testToken = "handlers-test-token"

// testPassword is the manager's password in these tests.
const testPassword = "correct horse battery staple"

// memImages is an in-memory gallery.ImageStore with the real store's contract:
// versions come from one sequence and never repeat, lists are newest
// first (then by key), prefixes are literal, and DeleteAll raises the
// cache's generation with the rows it deletes. Setting fail makes every
// call fail with it and change nothing, like a database that is down.
type memImages struct {
	mu      sync.Mutex
	rows    map[string]memRow
	now     time.Time // the next Put's time; each Put is one second later
	version int64     // the last version given
	fail    error
	calls   map[string]int
	tables  *pool.MemoryTableStore // where DeleteAll raises the generation
}

type memRow struct {
	img  gallery.Image
	data []byte
}

// errStorageDown is how the main adapter reports a database or blob store
// that cannot be reached: wrapped in gallery.ErrUnavailable.
var errStorageDown = fmt.Errorf("%w: fake database: connection refused", gallery.ErrUnavailable)

func newMemImages(tables *pool.MemoryTableStore) *memImages {
	return &memImages{
		tables: tables,
		rows:   map[string]memRow{},
		now:    time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		calls:  map[string]int{},
	}
}

func (m *memImages) begin(call string) error {
	m.mu.Lock()
	m.calls[call]++
	return m.fail
}

func (m *memImages) Put(ctx context.Context, key string, c gallery.Content, data []byte) (gallery.Image, error) {
	defer m.mu.Unlock()
	if err := m.begin("Put"); err != nil {
		return gallery.Image{}, err
	}
	m.version++
	img := gallery.Image{
		Key: key, ContentType: c.Type, Size: int64(len(data)), Version: m.version, Updated: m.now,
		Hash: gallery.ContentHash(data), Width: c.Width, Height: c.Height,
	}
	m.now = m.now.Add(time.Second)
	m.rows[key] = memRow{img: img, data: bytes.Clone(data)}
	return img, nil
}

func (m *memImages) Load(ctx context.Context, key string) (gallery.Image, []byte, error) {
	defer m.mu.Unlock()
	if err := m.begin("Load"); err != nil {
		return gallery.Image{}, nil, err
	}
	r, ok := m.rows[key]
	if !ok {
		return gallery.Image{}, nil, fmt.Errorf("fake store: image %q: %w", key, gallery.ErrNotFound)
	}
	return r.img, bytes.Clone(r.data), nil
}

func (m *memImages) Stat(ctx context.Context, key string) (gallery.Image, error) {
	img, _, err := m.Load(ctx, key)
	return img, err
}

// sorted returns the rows newest first, then by key.
func (m *memImages) sorted(prefix string) []gallery.Image {
	var out []gallery.Image
	for k, r := range m.rows {
		if strings.HasPrefix(k, prefix) {
			out = append(out, r.img)
		}
	}
	slices.SortFunc(out, func(a, b gallery.Image) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func (m *memImages) List(ctx context.Context, o gallery.ListOptions) ([]gallery.Image, int, error) {
	defer m.mu.Unlock()
	if err := m.begin("List"); err != nil {
		return nil, 0, err
	}
	all := m.sorted(o.Prefix)
	page := all[min(o.Offset, len(all)):]
	if o.Limit > 0 && len(page) > o.Limit {
		page = page[:o.Limit]
	}
	return page, len(all), nil
}

func (m *memImages) Keys(ctx context.Context) ([]string, error) {
	defer m.mu.Unlock()
	if err := m.begin("Keys"); err != nil {
		return nil, err
	}
	keys := []string{}
	for _, img := range m.sorted("") {
		keys = append(keys, img.Key)
	}
	return keys, nil
}

func (m *memImages) DeleteAll(ctx context.Context) error {
	defer m.mu.Unlock()
	if err := m.begin("DeleteAll"); err != nil {
		return err
	}
	clear(m.rows)
	m.tables.RaiseGeneration()
	return nil
}

// setFail makes every later call fail with err (nil: succeed again).
func (m *memImages) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// row returns key's stored image and bytes.
func (m *memImages) row(key string) (memRow, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[key]
	return r, ok
}

// callCount is how many times a method was called.
func (m *memImages) callCount(method string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[method]
}

// keys returns the stored keys, sorted.
func (m *memImages) keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := []string{}
	for k := range m.rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// memSettings is an in-memory gallery.SettingsStore.
type memSettings struct {
	mu               sync.Mutex
	s                scaling.Settings
	saved            bool
	saves            int
	loadErr, saveErr error
}

func (m *memSettings) LoadSettings(ctx context.Context) (scaling.Settings, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return scaling.Settings{}, false, m.loadErr
	}
	return m.s, m.saved, nil
}

func (m *memSettings) SaveSettings(ctx context.Context, s scaling.Settings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.s, m.saved = s, true
	m.saves++
	return nil
}

// get returns what is saved and how many saves there were.
func (m *memSettings) get() (scaling.Settings, bool, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s, m.saved, m.saves
}

func (m *memSettings) set(s scaling.Settings) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s, m.saved = s, true
}

// fakeStats is a StatsSource holding per-minute points: Series answers
// with one point per step of [from, to), the known ones as they are and
// the others unreported, as the metrics backends do.
type fakeStats struct {
	mu     sync.Mutex
	points map[time.Time]scaling.Point
	err    error
	asked  []seriesCall
}

type seriesCall struct {
	From, To time.Time
	Step     time.Duration
}

func (f *fakeStats) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]scaling.Point, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, seriesCall{from, to, step})
	if f.err != nil {
		return nil, f.err
	}
	var out []scaling.Point
	for t := from.Truncate(step); t.Before(to); t = t.Add(step) {
		p, ok := f.points[t]
		if !ok {
			p = scaling.Point{Start: t}
		}
		out = append(out, p)
	}
	return out, nil
}

// fakeDecisions is a DecisionLog.
type fakeDecisions []scaling.Decision

func (d fakeDecisions) History() []scaling.Decision { return d }

// fakeClock is a settable clock for the login limiter, the sessions and
// the charts' window.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup says how to build a fixture; zero fields take their defaults.
type setup struct {
	nodes     int   // default 1
	capacity  int64 // each node's capacity in bytes; default 16 MiB
	cacheOff  bool  // capacity 0: the pool is off
	maxUpload int64 // default 64 KiB
	maxPixels int64 // default DefaultMaxPixels
}

// fixture is a gallery, a control and a manager over a real pool.
type fixture struct {
	images   *memImages
	settings *memSettings
	stats    *fakeStats
	clock    *fakeClock
	local    *pool.LocalProvider
	tables   *pool.MemoryTableStore
	pool     *pool.Pool
	gallery  *gallery.Service
	control  *gallery.Control
	auth     *Auth
	log      *slog.Logger
}

func newFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	if s.nodes == 0 {
		s.nodes = 1
	}
	if s.capacity == 0 {
		s.capacity = 16 << 20
	}
	if s.cacheOff {
		s.capacity = 0
	}
	if s.maxUpload == 0 {
		s.maxUpload = 64 << 10
	}
	local, err := pool.NewLocalProvider(pool.LocalOptions{Node: node.Options{Token: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	tables := &pool.MemoryTableStore{}
	pool, err := pool.New(t.Context(), pool.Options{
		Provider: local, Tables: tables, Token: testToken,
		Config: node.Config{Capacity: s.capacity, Policy: "lru"}, InitialNodes: s.nodes,
		FollowEvery: 20 * time.Millisecond, Settle: 5 * time.Millisecond, ProbeEvery: 20 * time.Millisecond,
		Lease: 50 * time.Millisecond, Timeout: 5 * time.Second, // a loaded CI machine must not trip circuits
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	f := &fixture{
		images:   newMemImages(tables),
		settings: &memSettings{},
		stats:    &fakeStats{points: map[time.Time]scaling.Point{}},
		clock:    &fakeClock{t: time.Date(2026, 3, 1, 12, 34, 56, 0, time.UTC)},
		local:    local,
		tables:   tables,
		pool:     pool,
		log:      slog.New(slog.DiscardHandler),
	}
	f.gallery = gallery.NewService(f.images, pool, photo.Limits{MaxBytes: s.maxUpload, MaxPixels: s.maxPixels}, f.log)
	f.control = gallery.NewControl(pool, f.settings, f.log)
	f.auth, err = NewAuth(testPassword, AuthOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// openAPI is the guard of a server on loopback: every route open.
var openAPI = APIGuard(true, "")

// galleryServer serves the gallery as the gallery's server does (see
// GalleryServer), with the default Protection.
func (f *fixture) galleryServer(t *testing.T, guard func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	return f.protectedGallery(t, guard, Protection{})
}

// protectedGallery serves the gallery behind prot.
func (f *fixture) protectedGallery(t *testing.T, guard func(http.Handler) http.Handler, prot Protection) *httptest.Server {
	t.Helper()
	return serveTest(t, f.galleryParts(guard, prot).Handler(), nil)
}

// galleryParts are the gallery server's parts over the fixture.
func (f *fixture) galleryParts(guard func(http.Handler) http.Handler, prot Protection) GalleryServer {
	return GalleryServer{Gallery: f.gallery, Pool: f.pool, Configurer: f.control, ManagerURL: "http://manager.test/",
		Guard: guard, Protection: prot, Log: f.log}
}

// serveTest serves h on loopback until the test ends; configure, when not
// nil, sets the server's fields (timeouts) before it starts.
func serveTest(t *testing.T, h http.Handler, configure func(*http.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// managerServer serves the manager as the manager's server does (see
// ManagerServer), with the default Protection.
func (f *fixture) managerServer(t *testing.T, guard func(http.Handler) http.Handler, decisions DecisionLog) *httptest.Server {
	t.Helper()
	return f.protectedManager(t, guard, decisions, Protection{})
}

// protectedManager serves the manager behind prot.
func (f *fixture) protectedManager(t *testing.T, guard func(http.Handler) http.Handler, decisions DecisionLog, prot Protection) *httptest.Server {
	t.Helper()
	pages := ManagerDeps{Auth: f.auth, Control: f.control, Pool: f.pool, Gallery: f.gallery,
		Stats: f.stats, Decisions: decisions, Log: f.log, Now: f.clock.Now}
	return serveTest(t, ManagerServer{Pages: pages, API: f.galleryParts(guard, prot)}.Handler(), nil)
}

// put stores an image straight through the gallery (not over HTTP).
func (f *fixture) put(t *testing.T, key string, data []byte) gallery.Image {
	t.Helper()
	img, err := f.gallery.Upload(t.Context(), key, data)
	if err != nil {
		t.Fatalf("upload %q: %v", key, err)
	}
	return img
}

// putCached stores n images, k0 … k(n-1), and reads each once, so that
// the pool holds them all.
func (f *fixture) putCached(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		k := fmt.Sprint("k", i)
		f.put(t, k, testimg.PNG(t, 1+i, 1))
		if _, err := f.gallery.Fetch(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
}

// nodeItems returns the items each node holds, in member order.
func (f *fixture) nodeItems(t *testing.T) []int64 {
	t.Helper()
	var items []int64
	for _, m := range f.pool.Table().Members {
		n, ok := f.local.Node(m)
		if !ok {
			t.Fatalf("node %s is not running", m)
		}
		items = append(items, n.Status().Items)
	}
	return items
}

// totalItems is the sum of nodeItems.
func (f *fixture) totalItems(t *testing.T) int64 {
	t.Helper()
	var sum int64
	for _, n := range f.nodeItems(t) {
		sum += n
	}
	return sum
}

// nodeConfigs returns each running node's configuration, in member order.
func (f *fixture) nodeConfigs(t *testing.T) []node.Config {
	t.Helper()
	var cfgs []node.Config
	for _, m := range f.pool.Table().Members {
		n, ok := f.local.Node(m)
		if !ok {
			t.Fatalf("node %s is not running", m)
		}
		cfgs = append(cfgs, n.Config())
	}
	return cfgs
}

// runningNodes is how many nodes the provider runs.
func (f *fixture) runningNodes(t *testing.T) int {
	t.Helper()
	members, err := f.local.Members(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(members)
}

// HTTP helpers.

// result is an answer, read whole.
type result struct {
	status int
	header http.Header
	body   []byte
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send sends req, with headers given as name, value pairs.
func send(t *testing.T, req *http.Request, headers ...string) result {
	t.Helper()
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}
}

func newRequest(t *testing.T, method, target string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// get sends a GET.
func get(t *testing.T, target string, headers ...string) result {
	t.Helper()
	return send(t, newRequest(t, http.MethodGet, target, nil), headers...)
}

// postForm sends a POST with a urlencoded body (none when form is nil).
func postForm(t *testing.T, target string, form url.Values, headers ...string) result {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := newRequest(t, http.MethodPost, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return send(t, req, headers...)
}

// formPart is one field of a multipart form; a file when filename is set.
type formPart struct {
	name, filename, contentType string
	data                        []byte
}

func keyPart(key string) formPart { return formPart{name: "key", data: []byte(key)} }

func filePart(filename string, data []byte) formPart {
	return formPart{name: "file", filename: filename, contentType: "application/octet-stream", data: data}
}

// multipartBody encodes parts as multipart/form-data.
func multipartBody(t *testing.T, parts ...formPart) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
			h.Set("Content-Type", p.contentType)
		}
		h.Set("Content-Disposition", disp)
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

// postMultipart sends a multipart POST.
func postMultipart(t *testing.T, target string, parts []formPart, headers ...string) result {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	req := newRequest(t, http.MethodPost, target, body)
	req.Header.Set("Content-Type", ct)
	return send(t, req, headers...)
}

// upload posts key and a file named name to /api/upload (or the page's
// /upload when path says so).
func upload(t *testing.T, base, path, key string, data []byte, headers ...string) result {
	t.Helper()
	return postMultipart(t, base+path, []formPart{keyPart(key), filePart("photo.png", data)}, headers...)
}

// JSON helpers.

// checkJSON asserts the status, the content type and the exact JSON body
// (decoded on both sides, so that key order and spacing do not matter but
// every key and value does).
func checkJSON(t *testing.T, r result, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status: got %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var got, exp any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, r.body)
	}
	if dec.More() {
		t.Errorf("body holds more than one JSON value: %q", r.body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s\nbody: %s", diff, r.body)
	}
}

// apiError is the exact failure body.
func apiErrorJSON(code int, message string) string {
	return jsonOf(map[string]any{"success": "false", "error": map[string]any{"code": code, "message": message}})
}

// jsonOf marshals v, a want body built of strings, numbers, slices and
// maps, which always marshal.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkAPIError asserts a failure's status and exact body.
func checkAPIError(t *testing.T, r result, code int, message string) {
	t.Helper()
	checkJSON(t, r, code, apiErrorJSON(code, message))
}

// HTML helpers.

// page parses an HTML answer.
func page(t *testing.T, r result) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

var spaceRun = regexp.MustCompile(`[ \t\r\n]+`)

// textOf is s's trimmed text with runs of ASCII white space folded.
func textOf(s *goquery.Selection) string {
	return strings.TrimSpace(spaceRun.ReplaceAllString(s.Text(), " "))
}

// testIDText returns the text of the one element with data-testid id.
func testIDText(t *testing.T, doc *goquery.Document, id string) string {
	t.Helper()
	s := byTestID(doc, id)
	if s.Length() != 1 {
		t.Fatalf("want one element with data-testid %q, found %d", id, s.Length())
	}
	return textOf(s)
}

// testIDAttr returns an attribute of the one element with data-testid id.
func testIDAttr(t *testing.T, doc *goquery.Document, id, name string) string {
	t.Helper()
	s := byTestID(doc, id)
	if s.Length() != 1 {
		t.Fatalf("want one element with data-testid %q, found %d", id, s.Length())
	}
	v, ok := s.Attr(name)
	if !ok {
		t.Fatalf("element %q has no attribute %s", id, name)
	}
	return v
}

// checkTexts asserts the text of each data-testid (one element each).
func checkTexts(t *testing.T, doc *goquery.Document, want map[string]string) {
	t.Helper()
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if got := testIDText(t, doc, id); got != want[id] {
			t.Errorf("%s: got %q, want %q", id, got, want[id])
		}
	}
}

// checkAbsent asserts no element has any of the data-testids.
func checkAbsent(t *testing.T, doc *goquery.Document, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if n := byTestID(doc, id).Length(); n != 0 {
			t.Errorf("want no %q, found %d", id, n)
		}
	}
}

// isFullPage reports whether an HTML answer is a whole document (else an
// htmx fragment).
func isFullPage(r result) bool {
	return bytes.HasPrefix(bytes.ToLower(bytes.TrimSpace(r.body)), []byte("<!doctype html>"))
}

// checkHTML asserts a 200 HTML answer, whole page or fragment.
func checkHTML(t *testing.T, r result, fullPage bool) *goquery.Document {
	t.Helper()
	if r.status != http.StatusOK {
		t.Errorf("status: got %d, want 200 (body %.300s)", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type: got %q", ct)
	}
	if got := isFullPage(r); got != fullPage {
		t.Errorf("whole page: got %v, want %v (body %.200s)", got, fullPage, r.body)
	}
	if !fullPage && bytes.Contains(r.body, []byte("<html")) {
		t.Errorf("fragment holds an <html> element")
	}
	return page(t, r)
}

// storageMessage is what users are told when storage is unavailable.
const storageMessage = "Storage is unavailable right now; nothing was changed. Please try again in a moment."

// lruConfig is an lru node configuration of mb MiB.
func lruConfig(mb int64) node.Config { return node.Config{Capacity: mb << 20, Policy: "lru"} }
