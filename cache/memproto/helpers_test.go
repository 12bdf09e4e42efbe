package memproto

import (
	"bufio"
	"bytes"
	"context"
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
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(r.c, in+"mn\r\n"); err != nil {
		r.tb.Fatalf("send %q: %v", in, err)
	}
	want := 1 + strings.Count("\n"+in, "\nmn")
	var got []byte
	for seen := 0; seen < want; {
		b, err := r.br.ReadByte()
		if err != nil {
			r.tb.Fatalf("after %q, read %q then: %v", in, got, err)
		}
		got = append(got, b)
		if string(got) == "MN\r\n" || bytes.HasSuffix(got, []byte("\r\nMN\r\n")) {
			seen++
		}
	}
	return string(got[:len(got)-len("MN\r\n")])
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
