package memproto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startServer serves a fresh EngineBackend (lru, 64 MiB) on a loopback
// port until the test ends, and returns its address and server.
func startServer(tb testing.TB, opts Options) (string, *Server) {
	tb.Helper()
	b, err := NewEngineBackend("lru", 64<<20, EngineOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return serveBackend(tb, b, opts)
}

// serveBackend serves b on a loopback port until the test ends.
func serveBackend(tb testing.TB, b Backend, opts Options) (string, *Server) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := NewServer(b, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), srv
}

// rawConn is a test's connection speaking the protocol by hand.
type rawConn struct {
	tb testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &rawConn{tb: tb, c: c, br: bufio.NewReader(c)}
}

// exchange sends in, then "mn", and returns everything the server
// answered before that mn's "MN": with every reply in, the mn's reply
// comes last, so nothing is missed and nothing is waited for. (An mn in
// in is counted, so its own MN is not taken for the end.)
func (r *rawConn) exchange(in string) string {
	r.tb.Helper()
	r.c.SetDeadline(time.Now().Add(time.Minute))
	// Written while the replies are read: a long pipeline would otherwise
	// fill both ways' socket buffers and stall, as with any server.
	sent := make(chan error, 1)
	go func() {
		_, err := io.WriteString(r.c, in+"mn\r\n")
		sent <- err
	}()
	want := 1 + strings.Count("\n"+in, "\nmn")
	var got []byte
	for seen, lineStart := 0, true; seen < want; {
		line, err := r.br.ReadSlice('\n')
		got = append(got, line...)
		if errors.Is(err, bufio.ErrBufferFull) {
			lineStart = false
			continue
		}
		if err != nil {
			r.tb.Fatalf("after %s, read %s then: %v", brief(in), brief(string(got)), err)
		}
		if lineStart && string(line) == "MN\r\n" {
			seen++
		}
		lineStart = true
	}
	if err := <-sent; err != nil {
		r.tb.Fatalf("send %s: %v", brief(in), err)
	}
	return string(got[:len(got)-len("MN\r\n")])
}

// brief quotes s for a message, its middle cut when long.
func brief(s string) string {
	if len(s) > 400 {
		return fmt.Sprintf("%q…(%d bytes)…%q", s[:200], len(s)-400, s[len(s)-200:])
	}
	return fmt.Sprintf("%q", s)
}

// send writes in and returns what the server answers until it closes the
// connection.
func (r *rawConn) sendUntilClose(in string) string {
	r.tb.Helper()
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(r.c, in); err != nil {
		r.tb.Fatalf("send %q: %v", in, err)
	}
	got, err := io.ReadAll(r.br)
	if err != nil {
		r.tb.Fatalf("after %q, read %q then: %v", in, got, err)
	}
	return string(got)
}

// needTool returns the path of a Debian tool, or skips the test saying
// which package to install.
func needTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("%s is not installed (apt-get install %s): skipping what needs it", name, pkg)
	}
	return p
}
