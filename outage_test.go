package main

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/picpool/picpool/store/storetest"
)

// TestDatabaseDown runs `picpool dev` on PostgreSQL through a TCP proxy and
// cuts the proxy: uploads fail with a clear 503 and change nothing, cached
// images are still served, and once the database is back the old image is
// intact and uploads work again.
func TestDatabaseDown(t *testing.T) {
	dsn := storetest.DSN(t, storetest.Postgres) // skips, saying why, without PICPOOL_TEST_POSTGRES
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	base, _ := startDev(t, "--db", u.String())

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
