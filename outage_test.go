package main

import (
	"encoding/base64"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/picpool/picpool/store/storetest"
)

// TestDatabaseDown runs `picpool dev` on PostgreSQL through a TCP proxy and
// cuts the proxy: uploads fail with a clear 503 and change nothing, cached
// images are still served, and once the database is back the old image is
// intact and uploads work again.
func TestDatabaseDown(t *testing.T) {
	proxy, dsn := proxiedPostgres(t)
	base, _ := startDev(t, "--db", dsn)

	old := pngOf(t, 21, 21)
	if r := apiCall(t, base, "/api/upload", map[string]string{"key": "kept"}, old); r.status != 200 {
		t.Fatalf("upload: %v", r)
	}
	apiCall(t, base, "/api/key/kept", nil, nil) // now cached

	proxy.cut()
	r := apiCall(t, base, "/api/upload", map[string]string{"key": "kept"}, pngOf(t, 22, 22))
	const unavailable = `{"success":"false","error":{"code":503,"message":"Storage is unavailable right now; nothing was changed. Please try again in a moment."}}` + "\n"
	if r.raw != unavailable {
		t.Fatalf("upload with the database down: %v, want %s", r, unavailable)
	}
	if r := apiCall(t, base, "/api/key/kept", nil, nil); r.status != 200 || r.cache != "HIT" {
		t.Fatalf("a cached image with the database down: %v (X-Cache %s), want a hit", r, r.cache)
	}
	if r := apiCall(t, base, "/api/key/never-cached", nil, nil); r.raw != unavailable {
		t.Fatalf("an uncached key with the database down: %v, want %s", r, unavailable)
	}

	proxy.restore(t)
	if r := apiCall(t, base, "/api/key/kept", nil, nil); r.status != 200 {
		t.Fatalf("after the outage: %v", r)
	}
	got := apiCall(t, base, "/api/key/kept", nil, nil)
	if got.body["content"] != base64.StdEncoding.EncodeToString(old) {
		t.Fatal("the failed upload changed the stored image")
	}
	if r := apiCall(t, base, "/api/upload", map[string]string{"key": "kept"}, pngOf(t, 23, 23)); r.status != 200 {
		t.Fatalf("upload after the outage: %v", r)
	}
}

// proxiedPostgres returns a fresh PostgreSQL database's address through a
// proxy that the test can cut, and the proxy. It skips, saying why,
// without PICPOOL_TEST_POSTGRES.
func proxiedPostgres(t *testing.T) (*tcpProxy, string) {
	t.Helper()
	u, err := url.Parse(storetest.DSN(t, storetest.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	return proxy, u.String()
}

// tcpProxy forwards connections to a server until cut.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]bool{}}
	p.listen(t, "127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) listen(t *testing.T, addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[s] = true, true
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection: the database is down.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *tcpProxy) restore(t *testing.T) { p.listen(t, p.addr) }

// TestConfigureDatabaseDown cuts PostgreSQL under `picpool dev`: every
// path that reads or writes the pool's settings or statistics answers 503
// (storage unavailable, nothing changed), never 500, and the pool is as it
// was once the database is back.
func TestConfigureDatabaseDown(t *testing.T) {
	proxy, dsn := proxiedPostgres(t)
	dev := startDevServers(t, "--db", dsn, "--manager-password", "pw")
	manager := loginManager(t, dev.manager, "pw")

	proxy.cut()
	const unavailable = "Storage is unavailable right now; nothing was changed. Please try again in a moment."
	for _, params := range []string{"numNodes=3", "mode=auto", "cacheSize=8&policy=RR", ""} {
		r := apiCall(t, dev.gallery, "/api/configure_cache?"+params, nil, nil)
		if want := `{"success":"false","error":{"code":503,"message":"` + unavailable + `"}}` + "\n"; r.raw != want {
			t.Errorf("configure_cache?%s with the database down: %v, want %s", params, r, want)
		}
	}
	for _, route := range []string{"/stats", "/stats/live"} {
		status, body := manager.get(t, route)
		if status != 503 || !strings.Contains(body, unavailable) {
			t.Errorf("GET %s with the database down: %d %q, want 503 saying %q", route, status, body, unavailable)
		}
	}
	for _, form := range []struct{ route, fields string }{
		{"/pool/grow", ""}, {"/pool/resize", "numNodes=3"}, {"/config/mode", "mode=auto"}, {"/config/cache", "capacityMB=8&policy=random"}, {"/", ""},
	} {
		var status int
		var body string
		if form.route == "/" {
			status, body = manager.get(t, form.route)
		} else {
			status, body = manager.post(t, form.route, form.fields)
		}
		if flash := flashText(body); status != 200 || flash != unavailable {
			t.Errorf("%s with the database down: %d with the message %q, want 200 with %q", form.route, status, flash, unavailable)
		}
	}

	proxy.restore(t)
	if r := apiCall(t, dev.gallery, "/api/configure_cache", nil, nil); r.raw != `{"success":"true","mode":"manual","numNodes":2,"cacheSize":64,"policy":"SIZELFU"}`+"\n" {
		t.Fatalf("after the outage the pool is %v, want it as it was", r)
	}
}

// flashText returns the text of a manager page's message.
func flashText(page string) string {
	m := regexp.MustCompile(`data-testid="flash"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// managerSession is a client logged in to a manager.
type managerSession struct {
	base   string
	client *http.Client
}

// loginManager logs in to the manager at base with its password.
func loginManager(t *testing.T, base, password string) managerSession {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := managerSession{base: base, client: &http.Client{Jar: jar}}
	if status, body := s.post(t, "/login", url.Values{"password": {password}}.Encode()); status != 200 || strings.Contains(body, "Wrong password") {
		t.Fatalf("login to the manager: %d\n%s", status, body)
	}
	return s
}

func (s managerSession) get(t *testing.T, route string) (int, string) {
	t.Helper()
	resp, err := s.client.Get(s.base + route)
	return readResponse(t, route, resp, err)
}

func (s managerSession) post(t *testing.T, route, form string) (int, string) {
	t.Helper()
	resp, err := s.client.Post(s.base+route, "application/x-www-form-urlencoded", strings.NewReader(form))
	return readResponse(t, route, resp, err)
}

func readResponse(t *testing.T, route string, resp *http.Response, err error) (int, string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", route, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", route, err)
	}
	return resp.StatusCode, string(body)
}
