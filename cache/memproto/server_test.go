package memproto

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestPipelining sends many requests in one write, mixing small and large
// values, and checks every reply comes back whole and in order.
func TestPipelining(t *testing.T) {
	addr, _ := startServer(t, Options{})
	r := dialRaw(t, addr)
	var in, want strings.Builder
	for i := range 200 {
		value := strings.Repeat(string(rune('a'+i%26)), 1+i*97%(40<<10)) // small and past copyMax
		fmt.Fprintf(&in, "set k%d %d 0 %d\r\n%s\r\nget k%d\r\n", i, i, len(value), value, i)
		fmt.Fprintf(&want, "STORED\r\nVALUE k%d %d %d\r\n%s\r\nEND\r\n", i, i, len(value), value)
	}
	in.WriteString("get")
	for i := range 200 {
		fmt.Fprintf(&in, " k%d", i)
	}
	in.WriteString("\r\n")
	for i := range 200 {
		value := strings.Repeat(string(rune('a'+i%26)), 1+i*97%(40<<10))
		fmt.Fprintf(&want, "VALUE k%d %d %d\r\n%s\r\n", i, i, len(value), value)
	}
	want.WriteString("END\r\n")
	if got := r.exchange(in.String()); got != want.String() {
		t.Fatalf("pipelined replies differ: got %s, want %s", brief(got), brief(want.String()))
	}
}

// TestLineTooLong checks a line past MaxLineBytes is refused and the
// connection closed, so a client cannot make the server buffer without
// bound.
func TestLineTooLong(t *testing.T) {
	addr, _ := startServer(t, Options{MaxLineBytes: 1000})
	r := dialRaw(t, addr)
	if got := r.sendUntilClose("get " + strings.Repeat("k ", 600) + "\r\n"); got != "CLIENT_ERROR line too long\r\n" {
		t.Errorf("got %q", got)
	}
	r = dialRaw(t, addr)
	if got := r.exchange("get " + strings.Repeat("k ", 400) + "\r\n"); got != "END\r\n" {
		t.Errorf("a line within the bound: got %q", got)
	}
}

func TestQuit(t *testing.T) {
	addr, srv := startServer(t, Options{})
	r := dialRaw(t, addr)
	if got := r.sendUntilClose("set a 0 0 1\r\nx\r\nquit\r\nget a\r\n"); got != "STORED\r\n" {
		t.Errorf("got %q, want STORED and then the connection closed", got)
	}
	waitFor(t, func() bool { return srv.Stats().CurrConnections == 0 }, "the connection to be gone")
}

// TestServeStops checks that ending Serve's context closes the listener
// and every open connection, and Serve returns nil.
func TestServeStops(t *testing.T) {
	b, _ := NewEngineBackend("lru", 1<<20, EngineOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(b, Options{}).Serve(ctx, ln) }()
	r := dialRaw(t, ln.Addr().String())
	if got := r.exchange("version\r\n"); got != "VERSION "+DefaultVersion+"\r\n" {
		t.Fatalf("got %q", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return 10 s after its context ended")
	}
	if _, err := r.br.ReadByte(); err == nil {
		t.Error("the connection is still open")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts")
	}
}

// TestNoreplyStillReportsErrors checks noreply hides results, not errors.
func TestNoreplyStillReportsErrors(t *testing.T) {
	addr, _ := startServer(t, Options{MaxValueBytes: 10})
	r := dialRaw(t, addr)
	got := r.exchange("set a 0 0 1 noreply\r\nxyz\r\nset a 0 0 11 noreply\r\nxxxxxxxxxxx\r\nadd b 0 0 1 noreply\r\nx\r\nadd b 0 0 1 noreply\r\nx\r\n")
	if want := "CLIENT_ERROR bad data chunk\r\nERROR\r\nSERVER_ERROR object too large for cache\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// refCounting is a Backend that hands out values with references and
// checks the server gives each back once: released, or taken over by a
// Store.
type refCounting struct {
	*EngineBackend
	out, double atomic.Int64
}

type countedRef struct {
	b    *refCounting
	done atomic.Bool
}

func (r *countedRef) Release() {
	if r.done.Swap(true) {
		r.b.double.Add(1)
		return
	}
	r.b.out.Add(-1)
}

func (b *refCounting) ref(v Value) Value {
	b.out.Add(1)
	v.Ref = &countedRef{b: b}
	return v
}

func (b *refCounting) Get(key string, peek bool) (Item, bool) {
	it, ok := b.EngineBackend.Get(key, peek)
	if ok {
		it.Value = b.ref(it.Value)
	}
	return it, ok
}

func (b *refCounting) Alloc(n int) (Value, error) {
	v, err := b.EngineBackend.Alloc(n)
	return b.ref(v), err
}

func (b *refCounting) Update(key string, fn func(State) Change) error {
	return b.EngineBackend.Update(key, func(st State) Change {
		ch := fn(st)
		if r, ok := ch.Item.Value.Ref.(*countedRef); ok && ch.Op == Store {
			r.Release() // the backend owns it now
			ch.Item.Value.Ref = nil
		}
		return ch
	})
}

// TestValuesReleased checks that every value the server is handed or
// allocates is released exactly once, on every path: hits of every size,
// refused and failed stores, appends, expiry, meta and classic commands.
func TestValuesReleased(t *testing.T) {
	eb, _ := NewEngineBackend("lru", 1<<20, EngineOptions{})
	b := &refCounting{EngineBackend: eb}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(b, Options{MaxValueBytes: 64 << 10}).Serve(ctx, ln) }()
	big := strings.Repeat("x", 10<<10)
	r := dialRaw(t, ln.Addr().String())
	r.exchange("set a 0 0 1\r\nx\r\nset big 0 0 10240\r\n" + big + "\r\nget a big a big nope\r\ngets big\r\n" +
		"add a 0 0 1\r\ny\r\nappend a 0 0 1\r\ny\r\nprepend big 0 0 1\r\ny\r\ncas a 0 0 1 1\r\nz\r\n" +
		"set bad 0 0 1\r\nxyz\r\nset huge 0 0 70000\r\n" + strings.Repeat("h", 70000) + "\r\n" +
		"set n 0 0 1\r\n5\r\nincr n 2\r\ndecr n 1\r\ntouch a 100\r\ngat 100 big a\r\n" +
		"ms m 2 E5\r\nhi\r\nms m 2 E4\r\nho\r\nmg m v c\r\nmg big v u\r\nmg big s\r\nmd m E9\r\nma n v\r\n" +
		"set gone 0 -1 1\r\nx\r\nset soon 0 1 1\r\nx\r\nmd big I\r\nmg big v\r\nmg big v\r\n")
	r.c.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := b.out.Load(); n != 0 {
		t.Errorf("%d values never released", n)
	}
	if n := b.double.Load(); n != 0 {
		t.Errorf("%d values released twice", n)
	}
}

// waitFor polls cond for up to 10 s: for what happens on the server's
// goroutines after the client has its reply.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pipeListener is a Listener of in-memory connections, so that a server
// runs inside a synctest bubble, where time moves only when everything
// waits.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

// dial returns the client end of a new connection to the server.
func (l *pipeListener) dial(t *testing.T) *rawConn {
	client, server := net.Pipe()
	l.conns <- server
	t.Cleanup(func() { client.Close() })
	return &rawConn{tb: t, c: client, br: bufio.NewReader(client)}
}

// TestGetsWhileSetsOverwrite checks end to end that a GET's bytes are
// never reused while the server writes them out: writers overwrite a few
// keys with 100 KB values of one repeated byte; readers read slowly
// through small socket buffers, so that the server's writes of a value
// stall midway, and check every value they get is one byte repeated.
func TestGetsWhileSetsOverwrite(t *testing.T) {
	b, err := NewEngineBackend("lru", 64<<20, EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- NewServer(b, Options{}).Serve(srvCtx, smallSendBuffers{ln}) }()
	defer func() { stop(); <-served }()
	addr := ln.Addr().String()
	c := NewClient(addr, ClientOptions{MaxIdle: 8})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	const n, keys = 100 << 10, 4
	var wg sync.WaitGroup
	var gets, torn atomic.Int64
	for w := range 3 {
		wg.Go(func() {
			value := make([]byte, n)
			for i := 0; ctx.Err() == nil; i++ {
				for j := range value {
					value[j] = byte('a' + (i*3+w)%26)
				}
				c.Set(ctx, fmt.Sprint("k", i%keys), 0, value)
			}
		})
	}
	for range 4 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.(*net.TCPConn).SetReadBuffer(32 << 10) // far below 100 KB: the server's writes stall
		wg.Go(func() {
			br := bufio.NewReaderSize(nc, 4<<10)
			chunk := make([]byte, 4<<10)
			var value []byte
			for i := 0; ctx.Err() == nil; i++ {
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := fmt.Fprintf(nc, "get k%d\r\n", i%keys); err != nil {
					return
				}
				line, err := br.ReadString('\n')
				if err != nil || line == "END\r\n" {
					continue
				}
				var key string
				var flags, size int
				if _, err := fmt.Sscanf(line, "VALUE %s %d %d\r\n", &key, &flags, &size); err != nil {
					t.Errorf("reply %q", line)
					return
				}
				value = value[:0]
				for len(value) < size+len("\r\nEND\r\n") {
					m, err := br.Read(chunk[:min(len(chunk), size+7-len(value))])
					if err != nil {
						return
					}
					value = append(value, chunk[:m]...)
					if len(value)%(32<<10) < m {
						time.Sleep(50 * time.Microsecond)
					}
				}
				gets.Add(1)
				if v := value[:size]; strings.Count(string(v), string(v[:1])) != size {
					torn.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if torn.Load() > 0 {
		t.Errorf("%d of %d GETs returned bytes of two values", torn.Load(), gets.Load())
	}
	if gets.Load() < 50 {
		t.Errorf("only %d GETs in 2 s: the test proved little", gets.Load())
	}
}

// smallSendBuffers gives each accepted connection a small send buffer,
// so that writing a large value takes many writes as the peer reads.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// failingAccepts fails its first Accepts, as a listener out of file
// descriptors does.
type failingAccepts struct {
	net.Listener
	failures atomic.Int32
}

func (l *failingAccepts) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, errors.New("accept: too many open files")
	}
	return l.Listener.Accept()
}

// TestServeOutlastsAcceptErrors checks failed accepts pause the server,
// not end it.
func TestServeOutlastsAcceptErrors(t *testing.T) {
	b, _ := NewEngineBackend("lru", 1<<20, EngineOptions{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &failingAccepts{Listener: ln}
	fl.failures.Store(3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewServer(b, Options{}).Serve(ctx, fl) }()
	r := dialRaw(t, ln.Addr().String())
	if got := r.exchange("version\r\n"); got != "VERSION "+DefaultVersion+"\r\n" {
		t.Errorf("after failed accepts: got %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestWriteTimeout checks a client that stops reading is disconnected
// after WriteTimeout and the value it asked for is released.
func TestWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eb, _ := NewEngineBackend("lru", 1<<20, EngineOptions{})
		b := &refCounting{EngineBackend: eb}
		storeValue(t, eb, "big", 100<<10, 'x')
		l := newPipeListener()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- NewServer(b, Options{WriteTimeout: 30 * time.Second}).Serve(ctx, l) }()
		r := l.dial(t)
		if _, err := io.WriteString(r.c, "get big\r\n"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		synctest.Wait() // the server is stuck writing the reply nobody reads
		if b.out.Load() != 1 {
			t.Fatalf("%d values held while the reply is written, want 1", b.out.Load())
		}
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if n := b.out.Load(); n != 0 {
			t.Errorf("%d values still held %v after the client stopped reading", n, time.Since(start))
		}
		if _, err := io.ReadAll(r.c); err != nil {
			t.Errorf("reading what was sent: %v", err) // then EOF: the server closed it
		}
		cancel()
		<-done
	})
}
