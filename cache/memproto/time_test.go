package memproto

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// inBubble runs fn with a fresh server inside a synctest bubble: the
// clock moves only when every goroutine waits, so sleeps are exact and
// instant. Connections are in-memory pipes.
func inBubble(t *testing.T, fn func(t *testing.T, l *pipeListener, srv *Server)) {
	synctest.Test(t, func(t *testing.T) {
		b, err := NewEngineBackend("lru", 1<<20, EngineOptions{TombstoneTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		l := newPipeListener()
		srv := NewServer(b, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, l) }()
		defer func() { // also after a t.Fatal, or the bubble deadlocks
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		fn(t, l, srv)
	})
}

func TestExpiryInTime(t *testing.T) {
	inBubble(t, func(t *testing.T, l *pipeListener, srv *Server) {
		r := l.dial(t)
		want := func(in, out string) {
			t.Helper()
			if got := r.exchange(in); got != out {
				t.Fatalf("at %v, sent %q: got %q, want %q", time.Now().UTC().Format(time.TimeOnly), in, got, out)
			}
		}
		want("set short 0 2 1\r\nx\r\nset long 0 100 1\r\ny\r\nmg long t\r\n", "STORED\r\nSTORED\r\nHD t100\r\n")
		time.Sleep(1 * time.Second)
		want("get short\r\nmg long t\r\n", "VALUE short 0 1\r\nx\r\nEND\r\nHD t99\r\n")
		time.Sleep(1 * time.Second) // short expires at 2 s
		want("get short\r\n", "END\r\n")
		if n := srv.Stats().GetExpired; n != 1 {
			t.Errorf("get_expired %d, want 1", n)
		}
		want("gat 10 long\r\ntouch long 3\r\nmg long t v T50\r\nmg long t\r\n", "VALUE long 0 1\r\ny\r\nEND\r\nTOUCHED\r\nVA 1 t50\r\ny\r\nHD t50\r\n")
		time.Sleep(50 * time.Second)
		want("mg long v\r\n", "EN\r\n")
		abs := time.Now().Unix() + maxRelativeExptime + 10 // an absolute time
		want("set abs 0 "+itoa64(abs)+" 1\r\nz\r\nmg abs t\r\n", "STORED\r\nHD t"+itoa64(maxRelativeExptime+10)+"\r\n")
	})
}

func TestFlushAllDelay(t *testing.T) {
	inBubble(t, func(t *testing.T, l *pipeListener, _ *Server) {
		r := l.dial(t)
		if got := r.exchange("set a 0 0 1\r\nx\r\nflush_all 10\r\nget a\r\n"); got != "STORED\r\nOK\r\nVALUE a 0 1\r\nx\r\nEND\r\n" {
			t.Fatalf("got %q", got)
		}
		time.Sleep(9 * time.Second)
		if got := r.exchange("set b 0 0 1\r\ny\r\nget a b\r\n"); got != "STORED\r\nVALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n" {
			t.Fatalf("before the delay: got %q", got)
		}
		time.Sleep(2 * time.Second)
		if got := r.exchange("get a b\r\nset c 0 0 1\r\nz\r\nflush_all 100\r\nflush_all 0\r\nget c\r\n"); got != "END\r\nSTORED\r\nOK\r\nOK\r\nEND\r\n" {
			t.Fatalf("after the delay: got %q", got)
		}
		// The pending flush_all 100 was replaced by the flush_all 0.
		r.exchange("set d 0 0 1\r\nw\r\n")
		time.Sleep(200 * time.Second)
		if got := r.exchange("get d\r\n"); got != "VALUE d 0 1\r\nw\r\nEND\r\n" {
			t.Fatalf("a replaced flush ran: got %q", got)
		}
	})
}

// TestTombstones checks a versioned delete refuses older versions for its
// time to live, its own (md T) or the backend's, and no longer.
func TestTombstones(t *testing.T) {
	inBubble(t, func(t *testing.T, l *pipeListener, _ *Server) {
		r := l.dial(t)
		want := func(in, out string) {
			t.Helper()
			if got := r.exchange(in); got != out {
				t.Fatalf("sent %q: got %q, want %q", in, got, out)
			}
		}
		want("ms k 1 E5\r\na\r\nmd k E7 T10\r\nms k 1 E6\r\nb\r\nmd n E3\r\nms n 1 E2\r\nc\r\n", "HD\r\nHD\r\nNS\r\nNF\r\nNS\r\n")
		time.Sleep(11 * time.Second) // k's tombstone (10 s) is gone, n's (a minute) lives
		want("ms k 1 E6\r\nb\r\nms n 1 E2\r\nc\r\nmg k v c\r\n", "HD\r\nNS\r\nVA 1 c6\r\nb\r\n")
		want("md k E4 T100\r\nms k 1 E3\r\nd\r\nms k 1 E4\r\ne\r\n", "HD\r\nNS\r\nHD\r\n") // a new tombstone, below the expired one
		time.Sleep(50 * time.Second)
		want("ms n 1 E2\r\nc\r\n", "HD\r\n")
	})
}

func itoa64(n int64) string { return string(appendUintText(nil, uint64(n))) }
