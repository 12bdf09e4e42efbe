package memproto

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures NewServer. The zero value of each field is its
// default.
type Options struct {
	// Token, when set, makes every connection authenticate first, in
	// memcached's text-protocol convention (memcached -Y): a "set" whose
	// data is "<user> <token>", any user. Default: none, no
	// authentication (for loopback only: see doc.go).
	Token string
	// MaxValueBytes bounds one item's data; a larger store is refused with
	// "SERVER_ERROR object too large for cache", as memcached's -I does.
	// Default: 1 MiB, memcached's.
	MaxValueBytes int
	// MaxLineBytes bounds a command line; a longer one is answered with a
	// CLIENT_ERROR and the connection closes. Default: 64 KiB, room for a
	// get of 250 keys of the longest length.
	MaxLineBytes int
	// Version is what "version" and "stats" report. Default: DefaultVersion.
	Version string
	// WriteTimeout bounds how long a reply may take to be taken by the
	// client; past it (between half of it and all of it, as the deadline
	// is renewed only when half spent), the connection closes, so that a
	// client that stops reading cannot pin the values it asked for.
	// Default: 30 s; negative: none.
	WriteTimeout time.Duration
	// Log receives the server's warnings (failed accepts). Default:
	// discard.
	Log *slog.Logger
	// Observe, when set, is told how long each command took to serve,
	// from its line read to its reply queued (not sent: a pipelined reply
	// goes out with the next), by CommandName.
	Observe func(command string, took time.Duration)
}

// Defaults of Options.
const (
	DefaultMaxValueBytes = 1 << 20
	DefaultMaxLineBytes  = 64 << 10
	DefaultWriteTimeout  = 30 * time.Second
	// DefaultVersion names the memcached protocol level served, so that
	// clients that read the version enable what 1.6 has.
	DefaultVersion = "1.6.0-picpool"
)

// readBufferBytes is each connection's read buffer: commands and small
// values are read through it, a large value straight into its memory.
const readBufferBytes = 16 << 10

// Server serves memcached's text protocol over a Backend: one goroutine
// per connection, pipelined requests answered in order, replies of a
// pipeline written together.
type Server struct {
	backend Backend
	opts    Options
	log     *slog.Logger
	started time.Time
	cas     atomic.Uint64 // the last CAS handed out
	stats   counters

	flushMu    sync.Mutex
	flushTimer *time.Timer // a delayed flush_all, pending

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// NewServer returns a server over b.
func NewServer(b Backend, opts Options) *Server {
	opts.MaxValueBytes = cmp.Or(opts.MaxValueBytes, DefaultMaxValueBytes)
	opts.MaxLineBytes = cmp.Or(opts.MaxLineBytes, DefaultMaxLineBytes)
	opts.Version = cmp.Or(opts.Version, DefaultVersion)
	opts.WriteTimeout = cmp.Or(opts.WriteTimeout, DefaultWriteTimeout)
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{backend: b, opts: opts, log: log, started: time.Now(), conns: map[net.Conn]struct{}{}}
}

// Serve accepts connections on ln until ctx is done or ln is closed, then
// closes every connection it accepted and waits for their goroutines.
// Other accept errors (out of file descriptors…) are logged and retried
// after a pause, as memcached does, rather than end the service. It
// returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer func() {
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
		s.flushMu.Lock()
		if s.flushTimer != nil {
			s.flushTimer.Stop()
		}
		s.flushMu.Unlock()
	}()
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.log.Warn("memproto: accept failed; retrying", "err", err, "pause", pause)
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		pause = 0
		s.mu.Lock()
		s.conns[nc] = struct{}{}
		s.mu.Unlock()
		s.stats.currConns.Add(1)
		s.stats.totalConns.Add(1)
		wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
				nc.Close()
				s.stats.currConns.Add(-1)
			}()
			s.serveConn(nc)
		})
	}
}

// nextCAS returns a fresh CAS value.
func (s *Server) nextCAS() uint64 { return s.cas.Add(1) }

// conn is one connection's state.
type conn struct {
	s      *Server
	nc     net.Conn
	br     *bufio.Reader
	out    output
	fields [][]byte // the current line's fields; valid until the next read
	long   []byte   // a line longer than br's buffer, put together
	meta   metaFlags
	// keyText is a meta store's key as sent, kept for the reply's k flag
	// while the data block is read over the line's memory.
	keyText []byte
	authed  bool
	err     error // a read failed: the connection cannot go on
	// writeDeadline is the connection's write deadline, renewed by flush
	// when half of WriteTimeout is spent (renewing it costs a timer
	// update, too much for every reply).
	writeDeadline time.Time
}

// errLineTooLong ends a connection whose line passes MaxLineBytes.
var errLineTooLong = errors.New("memproto: command line too long")

func (s *Server) serveConn(nc net.Conn) {
	c := &conn{
		s:      s,
		nc:     nc,
		br:     bufio.NewReaderSize(countingReader{nc, &s.stats.bytesRead}, readBufferBytes),
		fields: make([][]byte, 0, 8),
		authed: s.opts.Token == "",
	}
	defer c.out.reset()
	for {
		line, err := c.readLine()
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				c.out.line("CLIENT_ERROR line too long")
				c.flush()
			}
			return
		}
		var start time.Time
		if c.s.opts.Observe != nil {
			start = time.Now()
		}
		goOn := c.serve(line)
		if c.s.opts.Observe != nil && len(c.fields) > 0 {
			c.s.opts.Observe(CommandName(c.fields[0]), time.Since(start))
		}
		if !goOn || c.err != nil {
			c.flush()
			return
		}
		if c.br.Buffered() == 0 || c.out.full() {
			if c.flush() != nil {
				return
			}
		}
	}
}

// readLine returns the next command line without its ending. It is valid
// until the next read from the connection.
func (c *conn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == nil {
		return c.bounded(line)
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	c.long = append(c.long[:0], line...)
	for {
		if len(c.long) > c.s.opts.MaxLineBytes {
			return nil, errLineTooLong
		}
		line, err = c.br.ReadSlice('\n')
		c.long = append(c.long, line...)
		if err == nil {
			return c.bounded(c.long)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// bounded returns a whole line without its ending, or errLineTooLong.
func (c *conn) bounded(line []byte) ([]byte, error) {
	line = trimEOL(line)
	if len(line) > c.s.opts.MaxLineBytes {
		return nil, errLineTooLong
	}
	return line, nil
}

// serve runs one command line and reports whether the connection goes on
// (quit ends it; so does a failed read, in c.err).
func (c *conn) serve(line []byte) bool {
	c.fields = splitFields(c.fields[:0], line)
	if len(c.fields) == 0 {
		c.out.line("ERROR")
		return true
	}
	if !c.authed {
		c.authenticate()
		return true
	}
	f := c.fields
	switch string(f[0]) {
	case "get":
		c.retrieve(false, false)
	case "gets":
		c.retrieve(true, false)
	case "gat":
		c.retrieve(false, true)
	case "gats":
		c.retrieve(true, true)
	case "set":
		c.storage(modeSet, false)
	case "add":
		c.storage(modeAdd, false)
	case "replace":
		c.storage(modeReplace, false)
	case "append":
		c.storage(modeAppend, false)
	case "prepend":
		c.storage(modePrepend, false)
	case "cas":
		c.storage(modeSet, true)
	case "delete":
		c.delete()
	case "incr":
		c.arith(false)
	case "decr":
		c.arith(true)
	case "touch":
		c.touch()
	case "mg":
		c.metaGet()
	case "ms":
		c.metaSet()
	case "md":
		c.metaDelete()
	case "ma":
		c.metaArith()
	case "mn":
		c.out.line("MN")
	case "flush_all":
		c.flushAll()
	case "stats":
		c.statsCommand()
	case "version":
		c.out.str("VERSION ")
		c.out.line(c.s.opts.Version)
	case "verbosity":
		c.verbosity()
	case "quit":
		return false
	default:
		c.out.line("ERROR")
	}
	return true
}

// flush writes the pending replies.
func (c *conn) flush() error {
	if !c.out.pending() {
		return nil
	}
	if d := c.s.opts.WriteTimeout; d > 0 {
		if now := time.Now(); now.Add(d / 2).After(c.writeDeadline) {
			c.writeDeadline = now.Add(d)
			c.nc.SetWriteDeadline(c.writeDeadline)
		}
	}
	n, err := c.out.flush(c.nc)
	c.s.stats.bytesWritten.Add(n)
	return err
}

// readValue reads a data block of n bytes and its "\r\n" into memory from
// the backend, counting a store command. When it cannot (too large, no
// memory, a bad ending) it writes memcached's error and returns false;
// c.err is set when the connection cannot go on.
func (c *conn) readValue(n int) (Value, bool) {
	c.s.stats.cmdSet.Add(1)
	if n > c.s.opts.MaxValueBytes {
		c.s.stats.storeTooLarge.Add(1)
		c.out.line("SERVER_ERROR object too large for cache")
		c.skip(n + 2)
		return Value{}, false
	}
	v, err := c.s.backend.Alloc(n)
	if err != nil {
		c.s.stats.storeNoMemory.Add(1)
		c.out.line("SERVER_ERROR out of memory storing object")
		c.skip(n + 2)
		return Value{}, false
	}
	var end [2]byte
	if _, c.err = io.ReadFull(c.br, v.B); c.err == nil {
		_, c.err = io.ReadFull(c.br, end[:])
	}
	if c.err != nil || end != [2]byte{'\r', '\n'} {
		v.Release()
		if c.err == nil {
			c.out.line("CLIENT_ERROR bad data chunk")
		}
		return Value{}, false
	}
	return v, true
}

// skip reads and drops n bytes: the data block of a store refused before
// it was read, so that it is not taken for commands.
func (c *conn) skip(n int) {
	if _, err := c.br.Discard(n); err != nil {
		c.err = err
	}
}

// keyed checks a "<command> <key> …" line: between min and max fields
// (else ERROR) and a valid key (else memcached's CLIENT_ERROR).
func (c *conn) keyed(min, max int) bool {
	if len(c.fields) < min || len(c.fields) > max {
		c.out.line("ERROR")
		return false
	}
	if !validKey(c.fields[1]) {
		c.out.line("CLIENT_ERROR bad command line format")
		return false
	}
	return true
}

// noreply reports whether the line's last field asks for no reply.
func (c *conn) noreply() bool {
	return len(c.fields) > 1 && string(c.fields[len(c.fields)-1]) == "noreply"
}

// countingReader counts the bytes read from the network (stats
// bytes_read).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}
