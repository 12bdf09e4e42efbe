// Package tcpproxy is test support: a TCP proxy on loopback that a test
// puts between a client and a server (a database, a cache node) to make
// the server fail the ways real ones do: Cut (down: connections refused
// and dropped) and Freeze (frozen: connections accepted, no byte answered,
// as a process under SIGSTOP or a stalled network looks).
package tcpproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards connections from its address to a target.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	cond   *sync.Cond // signalled on Thaw and on close
	ln     net.Listener
	conns  map[net.Conn]bool
	frozen bool
	closed bool
}

// Start listens on a fresh loopback port and forwards to target until the
// test ends.
func Start(tb testing.TB, target string) *Proxy {
	tb.Helper()
	p := &Proxy{target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	if err := p.listen("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.close)
	return p
}

// Addr is the proxy's address: what the client should dial.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go p.accept(ln)
	return nil
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go p.forward(c)
	}
}

// forward connects c to the target once the proxy is not frozen, then
// pumps bytes both ways.
func (p *Proxy) forward(c net.Conn) {
	if !p.track(c) || !p.waitThawed() {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(s) {
		c.Close()
		return
	}
	go p.pump(s, c)
	p.pump(c, s)
}

// pump copies src to dst, holding what it read while the proxy is frozen.
func (p *Proxy) pump(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitThawed() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
			}
			return
		}
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = true
	return true
}

// waitThawed blocks while the proxy is frozen; false once it is closed.
func (p *Proxy) waitThawed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.frozen && !p.closed {
		p.cond.Wait()
	}
	return !p.closed
}

// Cut stops accepting and drops every connection: the server is down.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore listens again on the same address after Cut.
func (p *Proxy) Restore(tb testing.TB) {
	tb.Helper()
	if err := p.listen(p.addr); err != nil {
		tb.Fatal(err)
	}
}

// Freeze stops forwarding: connections are still accepted and bytes are
// still read, but nothing reaches either side until Thaw.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

// Thaw forwards again, everything held first.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = false
	p.cond.Broadcast()
}

func (p *Proxy) close() {
	p.Cut()
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
}
