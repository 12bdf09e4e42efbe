package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picpool/picpool/internal/testimg"

	"github.com/PuerkitoBio/goquery"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/scaling"
)

// Tests of the manager's pages: the login and its limit, the session
// guard, and every outcome of every form on the configuration page, with
// its exact message and the proof that a refusal changed nothing.

// manager is a logged-in manager over a fixture.
type manager struct {
	*fixture
	srv    string
	cookie string // "picpool_session=…"
}

func newManager(t *testing.T, s setup) *manager {
	t.Helper()
	f := newFixture(t, s)
	m := &manager{fixture: f, srv: f.managerServer(t, openAPI, nil).URL}
	m.cookie = m.login(t)
	return m
}

// login signs in with the right password and returns the session cookie.
func (m *manager) login(t *testing.T) string {
	t.Helper()
	r := postForm(t, m.srv+"/login", url.Values{"password": {testPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("login: %d to %q, want 303 to /", r.status, r.header.Get("Location"))
	}
	c := sessionCookieOf(t, r)
	return c.Name + "=" + c.Value
}

func sessionCookieOf(t *testing.T, r result) *http.Cookie {
	t.Helper()
	resp := http.Response{Header: r.header}
	for _, c := range resp.Cookies() {
		if c.Name == "picpool_session" {
			return c
		}
	}
	t.Fatalf("no session cookie set (Set-Cookie %q)", r.header.Values("Set-Cookie"))
	return nil
}

// post posts a form of the configuration page, logged in, with htmx or
// without, and returns the page or the panel.
func (m *manager) post(t *testing.T, path string, form url.Values, htmx bool) *goquery.Document {
	t.Helper()
	headers := []string{"Cookie", m.cookie}
	if htmx {
		headers = append(headers, "HX-Request", "true")
	}
	r := postForm(t, m.srv+path, form, headers...)
	doc := checkHTML(t, r, !htmx)
	if n := byTestID(doc, "config").Length(); n != 1 {
		t.Errorf("want the config panel, found %d", n)
	}
	return doc
}

// checkFlash asserts the flash message and its kind ("" text: none).
func checkFlash(t *testing.T, doc *goquery.Document, kind, text string) {
	t.Helper()
	if text == "" {
		checkAbsent(t, doc, "flash")
		return
	}
	checkTexts(t, doc, map[string]string{"flash": text})
	if got := testIDAttr(t, doc, "flash", "data-kind"); got != kind {
		t.Errorf("flash kind: got %q, want %q", got, kind)
	}
}

// fieldErrors are the configuration page's error slots, all of them.
var fieldErrors = []string{"cache-capacity-error", "cache-policy-error", "mode-error", "mode-max-miss-error",
	"mode-min-miss-error", "mode-exp-ratio-error", "mode-shrink-ratio-error", "rule-error", "mode-target-miss-error", "resize-error"}

// checkFieldErrors asserts every error slot: those in want with their
// message, every other one empty.
func checkFieldErrors(t *testing.T, doc *goquery.Document, want map[string]string) {
	t.Helper()
	all := map[string]string{}
	for _, id := range fieldErrors {
		all[id] = want[id]
	}
	for id := range want {
		if !slices.Contains(fieldErrors, id) {
			t.Fatalf("unknown error slot %q", id)
		}
	}
	checkTexts(t, doc, all)
}

// stateWant is the pool state the page shows.
type stateWant struct {
	size, mode, capacity, policy string
}

func checkState(t *testing.T, doc *goquery.Document, want stateWant) {
	t.Helper()
	checkTexts(t, doc, map[string]string{"pool-size": want.size, "pool-capacity": want.capacity, "pool-policy": want.policy})
	if got := testIDAttr(t, doc, "pool-mode", "data-mode"); got != want.mode {
		t.Errorf("pool-mode: got %q, want %q", got, want.mode)
	}
	if n := byTestID(doc, "node-row").Length(); fmt.Sprint(n) != want.size {
		t.Errorf("node rows: got %d, want %s", n, want.size)
	}
}

var initialState = stateWant{"2", "manual", "16 MB", "Least recently used"}

func TestManagerLogin(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.managerServer(t, openAPI, nil).URL

	t.Run("form", func(t *testing.T) {
		doc := checkHTML(t, get(t, srv+"/login"), true)
		checkTexts(t, doc, map[string]string{"login-error": ""})
		checkAbsent(t, doc, "login-throttled")
	})
	for _, pw := range []string{"wrong", "", strings.ToUpper(testPassword), testPassword + " "} {
		t.Run(fmt.Sprintf("wrong password %q", pw), func(t *testing.T) {
			r := postForm(t, srv+"/login", url.Values{"password": {pw}})
			if r.status != http.StatusUnauthorized {
				t.Errorf("status: got %d, want 401", r.status)
			}
			doc := page(t, r)
			checkTexts(t, doc, map[string]string{"login-error": "Wrong password."})
			checkAbsent(t, doc, "login-throttled")
			if got := testIDAttr(t, doc, "login-password", "aria-invalid"); got != "true" {
				t.Errorf("aria-invalid: %q", got)
			}
			if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("a wrong password set cookies: %q", sc)
			}
		})
		f.auth.limiter.reset("127.0.0.1") // keep under the limit: TestManagerLoginLimit tests it
	}
	t.Run("right password", func(t *testing.T) {
		r := postForm(t, srv+"/login", url.Values{"password": {testPassword}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Fatalf("got %d to %q, want 303 to /", r.status, r.header.Get("Location"))
		}
		c := sessionCookieOf(t, r)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.Value == "" {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over http, a value", c)
		}
		if want := f.clock.Now().Add(12 * time.Hour); !c.Expires.Equal(want.Truncate(time.Second)) {
			t.Errorf("cookie expires %v, want %v", c.Expires, want)
		}
		cookie := c.Name + "=" + c.Value
		checkHTML(t, get(t, srv+"/", "Cookie", cookie), true)
		if r := get(t, srv+"/login", "Cookie", cookie); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
			t.Errorf("GET /login logged in: %d to %q, want 303 to /", r.status, r.header.Get("Location"))
		}

		t.Run("logout", func(t *testing.T) {
			r := postForm(t, srv+"/logout", nil, "Cookie", cookie)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
				t.Errorf("logout: %d to %q", r.status, r.header.Get("Location"))
			}
			if c := sessionCookieOf(t, r); c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("logout cookie %+v: want it deleted", c)
			}
		})
		t.Run("session expires", func(t *testing.T) {
			f.clock.Advance(12*time.Hour + time.Second)
			defer f.clock.Advance(-(12*time.Hour + time.Second))
			if r := get(t, srv+"/", "Cookie", cookie); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
				t.Errorf("expired session: %d to %q, want 303 to /login", r.status, r.header.Get("Location"))
			}
		})
		t.Run("forged cookie", func(t *testing.T) {
			forged := []byte(c.Value)
			forged[len(forged)-1] ^= 1
			for _, v := range []string{string(forged), "x", ""} {
				if r := get(t, srv+"/", "Cookie", "picpool_session="+v); r.status != http.StatusSeeOther {
					t.Errorf("cookie %q: got %d, want 303", v, r.status)
				}
			}
		})
	})
}

// TestManagerLoginLimit: five wrong passwords, then the client is locked
// out for the rest of the minute, right password or not.
func TestManagerLoginLimit(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.managerServer(t, openAPI, nil).URL
	wrong := func() result { return postForm(t, srv+"/login", url.Values{"password": {"nope"}}) }
	right := func() result { return postForm(t, srv+"/login", url.Values{"password": {testPassword}}) }
	throttled := func(r result, wait string) {
		t.Helper()
		if r.status != http.StatusTooManyRequests {
			t.Errorf("status: got %d, want 429", r.status)
		}
		doc := page(t, r)
		checkTexts(t, doc, map[string]string{"login-throttled": "Too many attempts. Try again in " + wait + " s.", "login-error": ""})
		if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("a throttled login set cookies: %q", sc)
		}
	}
	for i := range 5 {
		if r := wrong(); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: got %d, want 401", i+1, r.status)
		}
		f.clock.Advance(time.Second)
	}
	throttled(wrong(), "55")
	throttled(right(), "55")
	f.clock.Advance(40 * time.Second)
	throttled(right(), "15")
	f.clock.Advance(14*time.Second + 500*time.Millisecond)
	throttled(right(), "1")
	f.clock.Advance(500 * time.Millisecond)
	if r := right(); r.status != http.StatusSeeOther {
		t.Fatalf("after the window: got %d, want 303", r.status)
	}
	// A success starts the count again.
	for i := range 5 {
		if r := wrong(); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d after a success: got %d, want 401", i+1, r.status)
		}
	}
	throttled(wrong(), "60")
}

// TestManagerRequiresLogin: without a session, pages redirect to the
// login (htmx by HX-Redirect) and forms are refused, changing nothing.
func TestManagerRequiresLogin(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.managerServer(t, openAPI, nil).URL
	f.put(t, "kept", testimg.PNG(t, 1, 1))
	for _, path := range []string{"/", "/stats", "/stats/live"} {
		t.Run("GET "+path, func(t *testing.T) {
			r := get(t, srv+path)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
				t.Errorf("got %d to %q, want 303 to /login", r.status, r.header.Get("Location"))
			}
			r = get(t, srv+path, "HX-Request", "true")
			if r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/login" || r.header.Get("Location") != "" {
				t.Errorf("htmx: got %d, HX-Redirect %q, Location %q; want 401, /login, none", r.status, r.header.Get("HX-Redirect"), r.header.Get("Location"))
			}
		})
	}
	forms := map[string]url.Values{
		"/config/cache": {"capacityMB": {"32"}, "policy": {"random"}},
		"/config/mode":  {"mode": {"auto"}},
		"/pool/grow":    nil,
		"/pool/shrink":  nil,
		"/pool/resize":  {"numNodes": {"5"}},
		"/cache/clear":  {"confirm": {"yes"}},
		"/data/delete":  {"confirm": {"yes"}},
	}
	for path, form := range forms {
		t.Run("POST "+path, func(t *testing.T) {
			r := postForm(t, srv+path, form)
			if r.status != http.StatusUnauthorized || string(r.body) != "Log in first.\n" {
				t.Errorf("got %d %q, want 401 \"Log in first.\\n\"", r.status, r.body)
			}
			// An htmx form whose session ended must take the user to the
			// login page: htmx follows HX-Redirect whatever the status.
			r = postForm(t, srv+path, form, "HX-Request", "true")
			if r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/login" {
				t.Errorf("htmx: got %d, HX-Redirect %q; want 401, /login", r.status, r.header.Get("HX-Redirect"))
			}
		})
	}
	f.checkPool(t, poolWant{2, lruConfig(16), nil})
	if got := f.images.keys(); len(got) != 1 {
		t.Errorf("keys: %q, want [kept]", got)
	}
}

// TestManagerCrossOrigin: a form posted from another origin is refused,
// session or not, and changes nothing.
func TestManagerCrossOrigin(t *testing.T) {
	m := newManager(t, setup{nodes: 2})
	for path, form := range map[string]url.Values{
		"/config/cache": {"capacityMB": {"32"}, "policy": {"random"}},
		"/pool/grow":    nil,
		"/data/delete":  {"confirm": {"yes"}},
		"/login":        {"password": {testPassword}},
	} {
		t.Run(path, func(t *testing.T) {
			for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
				r := postForm(t, m.srv+path, form, append(h, "Cookie", m.cookie)...)
				if r.status != http.StatusForbidden {
					t.Errorf("%s: got %d, want 403", h, r.status)
				}
				if len(r.header.Values("Set-Cookie")) != 0 {
					t.Errorf("%s: cookies set", h)
				}
			}
		})
	}
	m.checkPool(t, poolWant{2, lruConfig(16), nil})
	// A same-origin form passes.
	doc := m.post(t, "/pool/grow", nil, true)
	checkFlash(t, doc, "success", "The pool went from 2 nodes to 3 nodes; cached entries moved with their partitions.")
}

func TestManagerConfigPage(t *testing.T) {
	m := newManager(t, setup{nodes: 2})
	m.putCached(t, 6)
	doc := checkHTML(t, get(t, m.srv+"/", "Cookie", m.cookie), true)
	checkState(t, doc, initialState)
	checkFlash(t, doc, "", "")
	checkFieldErrors(t, doc, nil)
	members := m.pool.Table().Members
	var addrs []string
	var items int64
	byTestID(doc, "node-row").Each(func(i int, s *goquery.Selection) {
		addrs = append(addrs, s.AttrOr("data-address", ""))
		if got := s.AttrOr("data-healthy", ""); got != "true" {
			t.Errorf("node %d data-healthy %q", i, got)
		}
		var n int64
		fmt.Sscan(textOf(s.Find(`[data-testid="node-items"]`)), &n)
		items += n
		if got := textOf(s.Find(`[data-testid="node-capacity"]`)); got != "16 MiB" {
			t.Errorf("node %d capacity %q", i, got)
		}
	})
	if !slices.Equal(addrs, members) || items != 6 {
		t.Errorf("node rows %q holding %d items; want %q holding 6", addrs, items, members)
	}
	for id, want := range map[string]string{"cache-capacity": "16", "mode-max-miss": "0.5", "mode-min-miss": "0.2",
		"mode-exp-ratio": "2", "mode-shrink-ratio": "0.5", "resize-num": "2"} {
		if got := testIDAttr(t, doc, id, "value"); got != want {
			t.Errorf("%s value: got %q, want %q", id, got, want)
		}
	}
	var options []string
	byTestID(doc, "cache-policy").Find("option").Each(func(_ int, s *goquery.Selection) {
		_, sel := s.Attr("selected")
		options = append(options, fmt.Sprintf("%s=%s selected=%v", s.AttrOr("value", ""), textOf(s), sel))
	})
	if want := []string{"lru=Least recently used selected=true", "random=Random replacement selected=false",
		"sieve=SIEVE (FIFO with lazy promotion) selected=false", "tinylfu=W-TinyLFU (frequency admission) selected=false",
		"sizelfu=Size-aware TinyLFU (frequency per byte) selected=false"}; !slices.Equal(options, want) {
		t.Errorf("policy options: got %q, want %q", options, want)
	}
	if _, checked := byTestID(doc, "mode-manual").Attr("checked"); !checked {
		t.Error("Manual is not checked")
	}
	checkAbsent(t, doc, "manual-disabled", "decision")

	t.Run("a dead node", func(t *testing.T) {
		if err := m.local.Kill(members[1]); err != nil {
			t.Fatal(err)
		}
		doc := checkHTML(t, get(t, m.srv+"/", "Cookie", m.cookie), true)
		rows := byTestID(doc, "node-row")
		if got := rows.Eq(1).AttrOr("data-healthy", ""); got != "false" || rows.Eq(1).AttrOr("data-address", "") != members[1] {
			t.Errorf("dead node row: data-healthy %q, address %q", got, rows.Eq(1).AttrOr("data-address", ""))
		}
		if got := rows.Eq(0).AttrOr("data-healthy", ""); got != "true" {
			t.Errorf("live node row: data-healthy %q", got)
		}
	})
}

func TestManagerConfigPageDecisions(t *testing.T) {
	f := newFixture(t, setup{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var log fakeDecisions
	for i := range 12 {
		log = append(log, scaling.Decision{Time: t0.Add(time.Duration(i) * time.Minute), Current: 1 + i%3, Target: 2 + i%3, MissRate: 0.625, Reason: fmt.Sprint("reason ", i)})
	}
	srv := f.managerServer(t, openAPI, log).URL
	m := &manager{fixture: f, srv: srv}
	m.cookie = m.login(t)
	doc := checkHTML(t, get(t, srv+"/", "Cookie", m.cookie), true)
	var got []string
	byTestID(doc, "decision").Each(func(_ int, s *goquery.Selection) { got = append(got, textOf(s)) })
	var want []string
	for i := 11; i >= 2; i-- { // the ten newest, newest first
		want = append(want, fmt.Sprintf("%s %d → %d nodes miss rate 62.5 %% · reason %d", t0.Add(time.Duration(i)*time.Minute).Format("15:04:05"), 1+i%3, 2+i%3, i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("decisions:\ngot  %q\nwant %q", got, want)
	}
}

// TestManagerSettingsUnavailable: when the settings cannot be read the
// page still shows the pool and says what is wrong.
func TestManagerSettingsUnavailable(t *testing.T) {
	m := newManager(t, setup{nodes: 2})
	m.settings.mu.Lock()
	m.settings.loadErr = errStorageDown
	m.settings.mu.Unlock()
	doc := checkHTML(t, get(t, m.srv+"/", "Cookie", m.cookie), true)
	checkFlash(t, doc, "error", storageMessage)
	checkState(t, doc, initialState)
	doc = m.post(t, "/config/mode", url.Values{"mode": {"auto"}}, true)
	checkFlash(t, doc, "error", storageMessage)
	doc = m.post(t, "/pool/grow", nil, true)
	checkFlash(t, doc, "error", storageMessage)
	m.checkPool(t, poolWant{2, lruConfig(16), nil})
}

func TestManagerCacheForm(t *testing.T) {
	tests := []struct {
		name             string
		capacity, policy string
		flash            string // success message; "" when refused
		errors           map[string]string
		state            stateWant
		config           node.Config
	}{
		{"capacity and policy", "32", "random", "Every node now has 32 MB with Random replacement.", nil,
			stateWant{"2", "manual", "32 MB", "Random replacement"}, node.Config{Capacity: 32 << 20, Policy: "random"}},
		{"policy alias", "16", "RR", "Every node now has 16 MB with Random replacement.", nil,
			stateWant{"2", "manual", "16 MB", "Random replacement"}, node.Config{Capacity: 16 << 20, Policy: "random"}},
		{"sieve", "16", "sieve", "Every node now has 16 MB with SIEVE (FIFO with lazy promotion).", nil,
			stateWant{"2", "manual", "16 MB", "SIEVE (FIFO with lazy promotion)"}, node.Config{Capacity: 16 << 20, Policy: "sieve"}},
		{"tinylfu by its alias", "16", "W-TinyLFU", "Every node now has 16 MB with W-TinyLFU (frequency admission).", nil,
			stateWant{"2", "manual", "16 MB", "W-TinyLFU (frequency admission)"}, node.Config{Capacity: 16 << 20, Policy: "tinylfu"}},
		{"sizelfu", "64", "sizelfu", "Every node now has 64 MB with Size-aware TinyLFU (frequency per byte).", nil,
			stateWant{"2", "manual", "64 MB", "Size-aware TinyLFU (frequency per byte)"}, node.Config{Capacity: 64 << 20, Policy: "sizelfu"}},
		{"same as now", "16", "lru", "Every node now has 16 MB with Least recently used.", nil, initialState, lruConfig(16)},
		{"capacity 0", "0", "lru", "Every node now has 0 MB with Least recently used.", nil,
			stateWant{"2", "manual", "0 MB", "Least recently used"}, lruConfig(0)},
		{"capacity with spaces", " 8 ", "lru", "Every node now has 8 MB with Least recently used.", nil,
			stateWant{"2", "manual", "8 MB", "Least recently used"}, lruConfig(8)},
		{"not a number", "lots", "lru", "", map[string]string{"cache-capacity-error": `The capacity of each node (cacheSize) must be a whole number of MB from 0 to 65536; got "lots".`},
			initialState, lruConfig(16)},
		{"a fraction", "1.5", "lru", "", map[string]string{"cache-capacity-error": `The capacity of each node (cacheSize) must be a whole number of MB from 0 to 65536; got "1.5".`},
			initialState, lruConfig(16)},
		{"negative", "-5", "lru", "", map[string]string{"cache-capacity-error": "The capacity of each node (cacheSize) must be between 0 and 65536 MB; got -5."},
			initialState, lruConfig(16)},
		{"too large", "70000", "random", "", map[string]string{"cache-capacity-error": "The capacity of each node (cacheSize) must be between 0 and 65536 MB; got 70000."},
			initialState, lruConfig(16)},
		{"unknown policy", "32", "fifo", "", map[string]string{"cache-policy-error": `Unknown policy "fifo": use one of LRU, RR, SIEVE, TINYLFU, SIZELFU.`},
			initialState, lruConfig(16)},
		{"both wrong", "x", "fifo", "", map[string]string{"cache-capacity-error": `The capacity of each node (cacheSize) must be a whole number of MB from 0 to 65536; got "x".`,
			"cache-policy-error": `Unknown policy "fifo": use one of LRU, RR, SIEVE, TINYLFU, SIZELFU.`}, initialState, lruConfig(16)},
		{"no capacity", "", "random", "", map[string]string{"cache-capacity-error": "Give each node's capacity in MB."},
			initialState, lruConfig(16)},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				m := newManager(t, setup{nodes: 2})
				epoch := m.pool.Table().Epoch
				doc := m.post(t, "/config/cache", url.Values{"capacityMB": {tt.capacity}, "policy": {tt.policy}}, htmx)
				checkFieldErrors(t, doc, tt.errors)
				checkState(t, doc, tt.state)
				m.checkPool(t, poolWant{2, tt.config, nil})
				if tt.flash != "" {
					checkFlash(t, doc, "success", tt.flash)
					if got := testIDAttr(t, doc, "cache-capacity", "value"); got != strings.TrimSpace(tt.capacity) {
						t.Errorf("capacity field: got %q", got)
					}
					return
				}
				checkFlash(t, doc, "", "")
				// The form shows what was typed.
				if got := testIDAttr(t, doc, "cache-capacity", "value"); got != tt.capacity {
					t.Errorf("capacity field: got %q, want %q", got, tt.capacity)
				}
				if got := m.pool.Table().Epoch; got != epoch {
					t.Errorf("table epoch went from %d to %d after a refusal", epoch, got)
				}
				for id, msg := range tt.errors {
					field := strings.TrimSuffix(id, "-error")
					if got := testIDAttr(t, doc, field, "aria-invalid"); got != "true" {
						t.Errorf("%s aria-invalid %q (error %q)", field, got, msg)
					}
				}
			})
		}
	}
	t.Run("no policy", func(t *testing.T) {
		m := newManager(t, setup{nodes: 2})
		doc := m.post(t, "/config/cache", url.Values{"capacityMB": {"32"}}, true)
		// The message goes next to the field that is missing.
		if got := textOf(byTestID(doc, "cache-policy-error")); got != "Choose a replacement policy." {
			t.Errorf("cache-policy-error: %q", got)
		}
		if got := textOf(byTestID(doc, "cache-capacity-error")); got != "" {
			t.Errorf("cache-capacity-error: %q, want none", got)
		}
		m.checkPool(t, poolWant{2, lruConfig(16), nil})
	})
}

func TestManagerModeForm(t *testing.T) {
	type fields struct{ mode, maxMiss, minMiss, expRatio, shrinkRatio string }
	form := func(f fields) url.Values {
		return url.Values{"mode": {f.mode}, "maxMiss": {f.maxMiss}, "minMiss": {f.minMiss}, "expRatio": {f.expRatio}, "shrinkRatio": {f.shrinkRatio}}
	}
	tests := []struct {
		name     string
		in       fields
		flash    string
		errors   map[string]string
		settings *scaling.Settings // nil: none saved
	}{
		{"manual", fields{"manual", "0.5", "0.2", "2", "0.5"}, "Manual mode: resize the pool by hand.", nil, nil},
		{"manual with new thresholds", fields{"manual", "0.7", "0.3", "3", "0.4"}, "Manual mode: resize the pool by hand.", nil,
			withPolicy(scaling.Manual, func(p *scaling.Policy) { p.MaxMissRate, p.MinMissRate, p.ExpandRatio, p.ShrinkRatio = 0.7, 0.3, 3, 0.4 })},
		{"auto", fields{"auto", "0.6", "0.1", "1.5", "0.25"}, "Automatic mode: the pool grows ×1.5 above a 0.6 miss rate and shrinks ×0.25 below 0.1.", nil,
			withPolicy(scaling.Auto, func(p *scaling.Policy) {
				p.MaxMissRate, p.MinMissRate, p.ExpandRatio, p.ShrinkRatio = 0.6, 0.1, 1.5, 0.25
			})},
		{"auto keeping the thresholds", fields{"auto", "", "", "", ""}, "Automatic mode: the pool grows ×2 above a 0.5 miss rate and shrinks ×0.5 below 0.2.", nil,
			withPolicy(scaling.Auto, nil)},
		{"auto at the bounds", fields{"auto", "1", "0", "1.0001", "0.9999"}, "Automatic mode: the pool grows ×1.0001 above a 1 miss rate and shrinks ×0.9999 below 0.", nil,
			withPolicy(scaling.Auto, func(p *scaling.Policy) {
				p.MaxMissRate, p.MinMissRate, p.ExpandRatio, p.ShrinkRatio = 1, 0, 1.0001, 0.9999
			})},
		{"no mode", fields{"", "0.5", "0.2", "2", "0.5"}, "", map[string]string{"mode-error": "Choose Manual or Automatic."}, nil},
		{"unknown mode", fields{"sideways", "0.5", "0.2", "2", "0.5"}, "", map[string]string{"mode-error": `The mode must be manual or auto; got "sideways".`}, nil},
		{"max above 1", fields{"auto", "1.5", "0.2", "2", "0.5"}, "", map[string]string{"mode-max-miss-error": "The maximum miss rate must be between 0 and 1; got 1.5."}, nil},
		{"max not a number", fields{"auto", "half", "0.2", "2", "0.5"}, "", map[string]string{"mode-max-miss-error": `The maximum miss rate must be a number; got "half".`}, nil},
		{"min negative", fields{"auto", "0.5", "-1", "2", "0.5"}, "", map[string]string{"mode-min-miss-error": "The minimum miss rate must be between 0 and 1; got -1."}, nil},
		{"min NaN", fields{"auto", "0.5", "NaN", "2", "0.5"}, "", map[string]string{"mode-min-miss-error": `The minimum miss rate must be a number; got "NaN".`}, nil},
		{"min equal to max", fields{"auto", "0.4", "0.4", "2", "0.5"}, "", map[string]string{"mode-min-miss-error": "The minimum miss rate (0.4) must be lower than the maximum miss rate (0.4)."}, nil},
		{"min above max", fields{"auto", "0.3", "0.6", "2", "0.5"}, "", map[string]string{"mode-min-miss-error": "The minimum miss rate (0.6) must be lower than the maximum miss rate (0.3)."}, nil},
		{"expand 1", fields{"auto", "0.5", "0.2", "1", "0.5"}, "", map[string]string{"mode-exp-ratio-error": "The expand ratio must be greater than 1; got 1."}, nil},
		{"expand below 1", fields{"auto", "0.5", "0.2", "0.9", "0.5"}, "", map[string]string{"mode-exp-ratio-error": "The expand ratio must be greater than 1; got 0.9."}, nil},
		{"expand NaN", fields{"auto", "0.5", "0.2", "NaN", "0.5"}, "", map[string]string{"mode-exp-ratio-error": `The expand ratio must be a number; got "NaN".`}, nil},
		{"expand infinite", fields{"auto", "0.5", "0.2", "+Inf", "0.5"}, "", map[string]string{"mode-exp-ratio-error": `The expand ratio must be a number; got "+Inf".`}, nil},
		{"shrink 0", fields{"auto", "0.5", "0.2", "2", "0"}, "", map[string]string{"mode-shrink-ratio-error": "The shrink ratio must be greater than 0 and less than 1; got 0."}, nil},
		{"shrink 1", fields{"auto", "0.5", "0.2", "2", "1"}, "", map[string]string{"mode-shrink-ratio-error": "The shrink ratio must be greater than 0 and less than 1; got 1."}, nil},
		{"shrink above 1", fields{"auto", "0.5", "0.2", "2", "2"}, "", map[string]string{"mode-shrink-ratio-error": "The shrink ratio must be greater than 0 and less than 1; got 2."}, nil},
		{"shrink words", fields{"auto", "0.5", "0.2", "2", "half"}, "", map[string]string{"mode-shrink-ratio-error": `The shrink ratio must be a number; got "half".`}, nil},
		{"every field wrong", fields{"auto", "2", "-1", "1", "1"}, "", map[string]string{
			"mode-max-miss-error":     "The maximum miss rate must be between 0 and 1; got 2.",
			"mode-min-miss-error":     "The minimum miss rate must be between 0 and 1; got -1.",
			"mode-exp-ratio-error":    "The expand ratio must be greater than 1; got 1.",
			"mode-shrink-ratio-error": "The shrink ratio must be greater than 0 and less than 1; got 1.",
		}, nil},
		{"manual with a bad threshold", fields{"manual", "0.5", "0.2", "0.5", "0.5"}, "", map[string]string{"mode-exp-ratio-error": "The expand ratio must be greater than 1; got 0.5."}, nil},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, htmx), func(t *testing.T) {
				m := newManager(t, setup{nodes: 2})
				doc := m.post(t, "/config/mode", form(tt.in), htmx)
				checkFieldErrors(t, doc, tt.errors)
				m.checkPool(t, poolWant{2, lruConfig(16), tt.settings})
				wantMode := "manual"
				if tt.settings != nil {
					wantMode = string(tt.settings.Mode)
				}
				checkState(t, doc, stateWant{"2", wantMode, "16 MB", "Least recently used"})
				if tt.flash != "" {
					checkFlash(t, doc, "success", tt.flash)
				} else {
					checkFlash(t, doc, "", "")
					// The form shows what was typed, and marks each wrong field.
					for id, want := range map[string]string{"mode-max-miss": tt.in.maxMiss, "mode-min-miss": tt.in.minMiss,
						"mode-exp-ratio": tt.in.expRatio, "mode-shrink-ratio": tt.in.shrinkRatio} {
						if got := testIDAttr(t, doc, id, "value"); got != want {
							t.Errorf("%s value: got %q, want %q", id, got, want)
						}
						_, invalid := byTestID(doc, id).Attr("aria-invalid")
						if _, wrong := tt.errors[id+"-error"]; invalid != wrong {
							t.Errorf("%s aria-invalid %v, want %v", id, invalid, wrong)
						}
					}
				}
				_, autoChecked := byTestID(doc, "mode-auto").Attr("checked")
				if want := tt.in.mode == "auto"; autoChecked != want {
					t.Errorf("Automatic checked %v, want %v", autoChecked, want)
				}
				_, disabled := byTestID(doc, "manual-fields").Attr("disabled")
				if want := wantMode == "auto"; disabled != want {
					t.Errorf("manual controls disabled %v, want %v", disabled, want)
				}
			})
		}
	}
	t.Run("settings cannot be saved", func(t *testing.T) {
		m := newManager(t, setup{nodes: 2})
		m.settings.mu.Lock()
		m.settings.saveErr = errStorageDown
		m.settings.mu.Unlock()
		doc := m.post(t, "/config/mode", form(fields{"auto", "0.6", "0.1", "1.5", "0.25"}), true)
		checkFlash(t, doc, "error", storageMessage)
		checkFieldErrors(t, doc, nil)
		m.checkPool(t, poolWant{2, lruConfig(16), nil})
		checkState(t, doc, initialState)
	})
}

// TestManagerResize: grow, shrink and resize to N by hand, their limits,
// and their refusal in automatic mode; a refusal changes nothing.
func TestManagerResize(t *testing.T) {
	tests := []struct {
		name       string
		nodes      int
		auto       bool
		path       string
		numNodes   string
		kind, text string // the flash
		resizeErr  string
		wantNodes  int
	}{
		{"grow", 2, false, "/pool/grow", "", "success", "The pool went from 2 nodes to 3 nodes; cached entries moved with their partitions.", "", 3},
		{"grow to 8", 7, false, "/pool/grow", "", "success", "The pool went from 7 nodes to 8 nodes; cached entries moved with their partitions.", "", 8},
		{"grow at 8", 8, false, "/pool/grow", "", "error", "The pool already has 8 nodes, the maximum.", "", 8},
		{"shrink", 3, false, "/pool/shrink", "", "success", "The pool went from 3 nodes to 2 nodes; cached entries moved with their partitions.", "", 2},
		{"shrink to 1", 2, false, "/pool/shrink", "", "success", "The pool went from 2 nodes to 1 node; cached entries moved with their partitions.", "", 1},
		{"shrink at 1", 1, false, "/pool/shrink", "", "error", "The pool already has 1 node, the minimum.", "", 1},
		{"resize up", 2, false, "/pool/resize", "4", "success", "The pool went from 2 nodes to 4 nodes; cached entries moved with their partitions.", "", 4},
		{"resize down", 4, false, "/pool/resize", "1", "success", "The pool went from 4 nodes to 1 node; cached entries moved with their partitions.", "", 1},
		{"resize to 8", 1, false, "/pool/resize", "8", "success", "The pool went from 1 node to 8 nodes; cached entries moved with their partitions.", "", 8},
		{"resize to the size", 2, false, "/pool/resize", "2", "info", "The pool already has 2 nodes.", "", 2},
		{"resize to 9", 2, false, "/pool/resize", "9", "", "", "The pool takes 1 to 8 nodes; it has 2 now, and 9 is out of range.", 2},
		{"resize to 0", 3, false, "/pool/resize", "0", "", "", "The pool takes 1 to 8 nodes; it has 3 now, and 0 is out of range.", 3},
		{"resize to -1", 1, false, "/pool/resize", "-1", "", "", "The pool takes 1 to 8 nodes; it has 1 now, and -1 is out of range.", 1},
		{"resize to words", 2, false, "/pool/resize", "four", "", "", "Give the number of nodes, from 1 to 8.", 2},
		{"resize to a fraction", 2, false, "/pool/resize", "2.5", "", "", "Give the number of nodes, from 1 to 8.", 2},
		{"resize to nothing", 2, false, "/pool/resize", "", "", "", "Give the number of nodes, from 1 to 8.", 2},
		{"grow in auto mode", 2, true, "/pool/grow", "", "error", "The pool is sized automatically; switch to Manual to resize it by hand.", "", 2},
		{"shrink in auto mode", 2, true, "/pool/shrink", "", "error", "The pool is sized automatically; switch to Manual to resize it by hand.", "", 2},
		{"resize in auto mode", 2, true, "/pool/resize", "5", "error", "The pool is sized automatically; switch to Manual to resize it by hand.", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, setup{nodes: tt.nodes})
			var settings *scaling.Settings
			if tt.auto {
				settings = withPolicy(scaling.Auto, nil)
				m.settings.set(*settings)
			}
			// Cached entries stay cached through a resize.
			m.putCached(t, 20)
			epoch := m.pool.Table().Epoch
			var form url.Values
			if tt.path == "/pool/resize" {
				form = url.Values{"numNodes": {tt.numNodes}}
			}
			doc := m.post(t, tt.path, form, true)
			checkFlash(t, doc, tt.kind, tt.text)
			checkFieldErrors(t, doc, map[string]string{"resize-error": tt.resizeErr})
			mode := map[bool]string{false: "manual", true: "auto"}[tt.auto]
			checkState(t, doc, stateWant{fmt.Sprint(tt.wantNodes), mode, "16 MB", "Least recently used"})
			m.checkPool(t, poolWant{tt.wantNodes, lruConfig(16), settings})
			if got := m.totalItems(t); got != 20 {
				t.Errorf("the nodes hold %d items, want the 20 cached", got)
			}
			if tt.wantNodes == tt.nodes {
				if got := m.pool.Table().Epoch; got != epoch {
					t.Errorf("table epoch went from %d to %d without a resize", epoch, got)
				}
			}
			if tt.resizeErr != "" {
				if got := testIDAttr(t, doc, "resize-num", "value"); got != tt.numNodes && !(tt.numNodes == "" && got == fmt.Sprint(tt.nodes)) {
					t.Errorf("resize field: got %q, want %q as typed", got, tt.numNodes)
				}
				if got := testIDAttr(t, doc, "resize-num", "aria-invalid"); got != "true" {
					t.Errorf("resize field aria-invalid %q", got)
				}
			} else if got := testIDAttr(t, doc, "resize-num", "value"); got != fmt.Sprint(tt.wantNodes) {
				t.Errorf("resize field: got %q, want the size %d", got, tt.wantNodes)
			}
		})
	}
}

// TestManagerResizePlainForm: without htmx the answer is the whole page.
func TestManagerResizePlainForm(t *testing.T) {
	m := newManager(t, setup{nodes: 8})
	doc := m.post(t, "/pool/grow", nil, false)
	checkFlash(t, doc, "error", "The pool already has 8 nodes, the maximum.")
	checkState(t, doc, stateWant{"8", "manual", "16 MB", "Least recently used"})
}

func TestManagerClearCache(t *testing.T) {
	for _, tt := range []struct {
		name       string
		form       url.Values
		kind, text string
		cleared    bool
	}{
		{"not confirmed", nil, "error", "Tick the confirmation box to clear the cache.", false},
		{"confirm no", url.Values{"confirm": {"no"}}, "error", "Tick the confirmation box to clear the cache.", false},
		{"confirm on", url.Values{"confirm": {"on"}}, "error", "Tick the confirmation box to clear the cache.", false},
		{"confirmed", url.Values{"confirm": {"yes"}}, "success", "Every node's cache is empty. Images are still stored; the next reads load them again.", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, setup{nodes: 3})
			m.putCached(t, 9)
			doc := m.post(t, "/cache/clear", tt.form, true)
			checkFlash(t, doc, tt.kind, tt.text)
			want := int64(9)
			if tt.cleared {
				want = 0
			}
			if got := m.totalItems(t); got != want {
				t.Errorf("the nodes hold %d items, want %d", got, want)
			}
			if got := len(m.images.keys()); got != 9 {
				t.Errorf("%d images stored, want 9: a cache clear deletes no image", got)
			}
			checkState(t, doc, stateWant{"3", "manual", "16 MB", "Least recently used"})
		})
	}
}

func TestManagerDeleteData(t *testing.T) {
	for _, tt := range []struct {
		name       string
		form       url.Values
		down       bool
		kind, text string
		deleted    bool
	}{
		{"not confirmed", nil, false, "error", "Tick the confirmation box to delete every image.", false},
		{"confirm no", url.Values{"confirm": {"no"}}, false, "error", "Tick the confirmation box to delete every image.", false},
		{"confirmed", url.Values{"confirm": {"yes"}}, false, "success", "Every image, its record and every cached copy are deleted.", true},
		{"storage down", url.Values{"confirm": {"yes"}}, true, "error", storageMessage, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, setup{nodes: 2})
			m.putCached(t, 7)
			if tt.down {
				m.images.setFail(errStorageDown)
			}
			doc := m.post(t, "/data/delete", tt.form, true)
			m.images.setFail(nil)
			checkFlash(t, doc, tt.kind, tt.text)
			wantImages, wantItems := 7, int64(7)
			if tt.deleted {
				wantImages, wantItems = 0, 0
			}
			if got := len(m.images.keys()); got != wantImages {
				t.Errorf("%d images stored, want %d", got, wantImages)
			}
			if got := m.totalItems(t); got != wantItems {
				t.Errorf("the nodes hold %d items, want %d", got, wantItems)
			}
		})
	}
}

// TestManagerDeleteDataWithDeadNode: a node that is down does not stop
// Delete all, and the page says truthfully that everything was deleted
// (the down node's entries are retired with the pool's generation).
func TestManagerDeleteDataWithDeadNode(t *testing.T) {
	m := newManager(t, setup{nodes: 2})
	m.put(t, "k", testimg.PNG(t, 1, 1))
	if err := m.local.Kill(m.pool.Table().Members[1]); err != nil {
		t.Fatal(err)
	}
	doc := m.post(t, "/data/delete", url.Values{"confirm": {"yes"}}, true)
	if got := testIDAttr(t, doc, "flash", "data-kind"); got != "success" {
		t.Errorf("flash kind %q, want success", got)
	}
	if keys := m.images.keys(); len(keys) != 0 {
		t.Errorf("keys left: %q", keys)
	}
}

// TestManagerClearCacheWithDeadNode: a node that cannot be cleared is
// named in the error; the others are cleared.
func TestManagerClearCacheWithDeadNode(t *testing.T) {
	m := newManager(t, setup{nodes: 2})
	m.putCached(t, 8)
	members := m.pool.Table().Members
	live, _ := m.local.Node(members[0])
	if err := m.local.Kill(members[1]); err != nil {
		t.Fatal(err)
	}
	doc := m.post(t, "/cache/clear", url.Values{"confirm": {"yes"}}, true)
	if got := testIDAttr(t, doc, "flash", "data-kind"); got != "error" {
		t.Errorf("flash kind %q, want error", got)
	}
	if msg := testIDText(t, doc, "flash"); !strings.HasPrefix(msg, "Some nodes could not be cleared: ") || !strings.Contains(msg, members[1]) {
		t.Errorf("flash %q: want it to start \"Some nodes could not be cleared: \" and name %s", msg, members[1])
	}
	if n := live.Status().Items; n != 0 {
		t.Errorf("the live node holds %d items after the clear", n)
	}
}

func TestNewAuthNeedsPassword(t *testing.T) {
	if _, err := NewAuth("", AuthOptions{}); err == nil || err.Error() != "handlers: the manager needs a password" {
		t.Errorf("NewAuth(\"\"): %v", err)
	}
}

// TestManagerModeFormTargetRule: the Automatic form offers the ratios or
// a target miss rate; the target rule is saved with its miss rate, shown
// checked afterwards, and a bad rule or target is marked on its field.
func TestManagerModeFormTargetRule(t *testing.T) {
	tests := []struct {
		name       string
		rule, miss string
		flash      string
		errors     map[string]string
		settings   *scaling.Settings
	}{
		{"target", "target", "0.05", "Automatic mode: the pool takes the fewest nodes its miss-ratio curve predicts at or under a 0.05 miss rate.", nil,
			withTarget(scaling.Auto, scaling.RuleTarget, 0.05)},
		{"ratios keep a target for later", "ratios", "0.2", "Automatic mode: the pool grows ×2 above a 0.5 miss rate and shrinks ×0.5 below 0.2.", nil,
			withTarget(scaling.Auto, scaling.RuleRatios, 0.2)},
		{"target 0", "target", "0", "", map[string]string{"mode-target-miss-error": "The target miss rate must be greater than 0 and less than 1; got 0."}, nil},
		{"target 1", "target", "1", "", map[string]string{"mode-target-miss-error": "The target miss rate must be greater than 0 and less than 1; got 1."}, nil},
		{"unknown rule", "sometimes", "0.1", "", map[string]string{"rule-error": `The rule must be ratios or target; got "sometimes".`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, setup{nodes: 2})
			doc := m.post(t, "/config/mode", url.Values{"mode": {"auto"}, "rule": {tt.rule}, "targetMiss": {tt.miss}}, true)
			checkFieldErrors(t, doc, tt.errors)
			m.checkPool(t, poolWant{2, lruConfig(16), tt.settings})
			if tt.flash != "" {
				checkFlash(t, doc, "success", tt.flash)
			}
			if got := testIDAttr(t, doc, "mode-target-miss", "value"); got != tt.miss {
				t.Errorf("target miss rate field: %q, want %q", got, tt.miss)
			}
			_, targetChecked := byTestID(doc, "rule-target").Attr("checked")
			_, ratiosChecked := byTestID(doc, "rule-ratios").Attr("checked")
			if want := tt.rule == "target"; targetChecked != want || ratiosChecked == want {
				t.Errorf("rule checked: target %v, ratios %v; want target %v", targetChecked, ratiosChecked, want)
			}
		})
	}
}
