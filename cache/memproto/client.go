package memproto

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Client speaks to one server (a PicPool node, or memcached for what
// memcached has) over a pool of connections, with PicPool's operations:
// versioned get, set and delete, and peek (see doc.go). Requests on one
// connection run one at a time; concurrent requests use more connections.
// A Client is safe for concurrent use.
type Client struct {
	addr string
	opts ClientOptions

	mu     sync.Mutex
	idle   []*clientConn
	closed bool
}

// ClientOptions configures NewClient. The zero value of each field is its
// default.
type ClientOptions struct {
	// Token, when set, authenticates each new connection as memcached -Y
	// asks: a set whose data is "<User> <Token>". Default: none.
	Token string
	// User is the user name sent with Token. Default: "picpool" (a PicPool
	// node takes any user).
	User string
	// Timeout bounds each request, dialing included, when the context has
	// no earlier deadline. Default: 5 s.
	Timeout time.Duration
	// MaxIdle is how many idle connections are kept. Default: 8.
	MaxIdle int
	// MinRate, when above 0, is the slowest a value may move, in bytes a
	// second: a request that sends or receives n value bytes gets Timeout
	// plus n/MinRate, the receiving part counted from when the reply says
	// its length (never past the context's deadline). Then Timeout can be
	// tight enough that a frozen server costs little, without failing
	// large values. Default: 0, Timeout alone.
	MinRate int64
}

// Defaults of ClientOptions.
const (
	DefaultClientTimeout = 5 * time.Second
	DefaultMaxIdle       = 8
)

var (
	// ErrAuth is returned when the server refuses the token.
	ErrAuth = errors.New("memproto: the server refused the token")
	// ErrProtocol is returned for a reply that does not parse.
	ErrProtocol = errors.New("memproto: unexpected reply")
	// ErrBadKey is returned for a key the protocol cannot carry: empty, or
	// longer than MaxKeyBytes.
	ErrBadKey = errors.New("memproto: key empty or longer than 250 bytes")
	// ErrClientClosed is returned by requests after Close.
	ErrClientClosed = errors.New("memproto: client closed")
)

// ReplyError is an error line from the server: ERROR, CLIENT_ERROR … or
// SERVER_ERROR ….
type ReplyError struct{ Line string }

func (e *ReplyError) Error() string { return "memproto: server replied " + e.Line }

// NewClient returns a client of the server at addr ("host:port"). It
// connects on first use.
func NewClient(addr string, opts ClientOptions) *Client {
	opts.User = cmp.Or(opts.User, "picpool")
	opts.Timeout = cmp.Or(opts.Timeout, DefaultClientTimeout)
	opts.MaxIdle = cmp.Or(opts.MaxIdle, DefaultMaxIdle)
	return &Client{addr: addr, opts: opts}
}

// Close closes the idle connections; those in use close when their
// request ends.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, cc := range idle {
		cc.nc.Close()
	}
	return nil
}

// Get returns key's value and version, or hit false on a miss. The
// version is the item's CAS: the version Set stored it with, or, for an
// item stored unversioned, the CAS the server gave it. The value is a new
// slice.
func (c *Client) Get(ctx context.Context, key string) (value []byte, version uint64, hit bool, err error) {
	return c.GetInto(ctx, key, nil)
}

// GetInto is Get reading the value into buf when it is large enough, so
// that a caller can reuse one buffer.
func (c *Client) GetInto(ctx context.Context, key string, buf []byte) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, buf, "get", " v c\r\n")
}

// Peek is Get without counting a hit or a miss in the server's stats
// (mg u): for a client looking again at a key it has just missed.
func (c *Client) Peek(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, nil, "peek", " v c u\r\n")
}

func (c *Client) get(ctx context.Context, key string, buf []byte, op, flags string) (value []byte, version uint64, hit bool, err error) {
	err = c.do(ctx, op, key, func(cc *clientConn, k wire) error {
		cc.req = append(k.flags(k.start(cc.req[:0], "mg")), flags...)
		if err := cc.send(nil); err != nil {
			return err
		}
		value, version, hit, err = cc.readGet(buf)
		return err
	})
	return value, version, hit, err
}

// Set stores value under key with a version (ms E): it reports stored
// false when the server holds a newer version of key, or a versioned
// delete above it. Version 0 stores unversioned, as a plain set.
func (c *Client) Set(ctx context.Context, key string, version uint64, value []byte) (stored bool, err error) {
	err = c.do(ctx, "set", key, func(cc *clientConn, k wire) error {
		cc.req = appendUintText(append(k.start(cc.req[:0], "ms"), ' '), uint64(len(value)))
		cc.req = appendVersion(k.flags(cc.req), version)
		cc.extend(len(value))
		if err := cc.send(value); err != nil {
			return err
		}
		code, err := cc.readCode()
		stored = code == "HD"
		if err == nil && !stored && code != "NS" {
			err = fmt.Errorf("%w: %q to a set", ErrProtocol, code)
		}
		return err
	})
	return stored, err
}

// Delete removes key. A version above 0 also leaves a tombstone: the
// server refuses sets of older versions for its tombstone time (md E).
func (c *Client) Delete(ctx context.Context, key string, version uint64) error {
	return c.do(ctx, "delete", key, func(cc *clientConn, k wire) error {
		cc.req = appendVersion(k.flags(k.start(cc.req[:0], "md")), version)
		if err := cc.send(nil); err != nil {
			return err
		}
		code, err := cc.readCode()
		if err == nil && code != "HD" && code != "NF" {
			err = fmt.Errorf("%w: %q to a delete", ErrProtocol, code)
		}
		return err
	})
}

// Stats returns the server's "stats" as name → value.
func (c *Client) Stats(ctx context.Context) (map[string]string, error) {
	stats := map[string]string{}
	err := c.run(ctx, "stats", "", func(cc *clientConn) error {
		cc.req = append(cc.req[:0], "stats\r\n"...)
		if err := cc.send(nil); err != nil {
			return err
		}
		for {
			line, err := cc.readLine()
			if err != nil || string(line) == "END" {
				return err
			}
			rest, stat := strings.CutPrefix(string(line), "STAT ")
			name, value, ok := strings.Cut(rest, " ")
			if !stat || !ok {
				return fmt.Errorf("%w: %q in stats", ErrProtocol, line)
			}
			stats[name] = value
		}
	})
	return stats, err
}

// FlushAll removes every item on the server (flush_all).
func (c *Client) FlushAll(ctx context.Context) error {
	return c.run(ctx, "flush_all", "", func(cc *clientConn) error {
		cc.req = append(cc.req[:0], "flush_all\r\n"...)
		if err := cc.send(nil); err != nil {
			return err
		}
		line, err := cc.readLine()
		if err == nil && string(line) != "OK" {
			err = fmt.Errorf("%w: %q to flush_all", ErrProtocol, line)
		}
		return err
	})
}

func appendVersion(b []byte, version uint64) []byte {
	if version > 0 {
		b = append(b, " E"...)
		b = appendUintText(b, version)
	}
	return append(b, "\r\n"...)
}

// wire is a key as it goes on the wire in a meta command: itself when
// memcached takes it, else in base64, sent with the b flag.
type wire struct {
	key string
	b64 bool
}

func wireKey(key string) (wire, error) {
	if key == "" || len(key) > MaxKeyBytes {
		return wire{}, fmt.Errorf("%w: %d bytes", ErrBadKey, len(key))
	}
	if validKey([]byte(key)) {
		return wire{key: key}, nil
	}
	return wire{base64.StdEncoding.EncodeToString([]byte(key)), true}, nil
}

// start appends "<cmd> <key>" to b; flags appends the b flag when due.
func (k wire) start(b []byte, cmd string) []byte {
	return append(append(append(b, cmd...), ' '), k.key...)
}

func (k wire) flags(b []byte) []byte {
	if k.b64 {
		b = append(b, " b"...)
	}
	return b
}

// do runs one request on a pooled connection, with the request's
// deadline; the connection goes back to the pool only if the request
// succeeded, so a connection is never left out of step with the server.
func (c *Client) do(ctx context.Context, op, key string, fn func(cc *clientConn, k wire) error) error {
	k, err := wireKey(key)
	if err != nil {
		return err
	}
	return c.run(ctx, op, key, func(cc *clientConn) error { return fn(cc, k) })
}

// run runs one request on a pooled connection, as do describes; key is
// only for error messages ("" for requests without one).
func (c *Client) run(ctx context.Context, op, key string, fn func(cc *clientConn) error) error {
	deadline := time.Now().Add(c.opts.Timeout)
	limit, _ := ctx.Deadline() // zero when ctx has none
	if !limit.IsZero() && limit.Before(deadline) {
		deadline = limit
	}
	cc, err := c.conn(ctx, deadline)
	if err != nil {
		return c.fail(op, key, err)
	}
	cc.nc.SetDeadline(deadline)
	cc.deadline, cc.limit, cc.timeout, cc.rate = deadline, limit, c.opts.Timeout, c.opts.MinRate
	stop := context.AfterFunc(ctx, func() { cc.nc.SetDeadline(time.Unix(1, 0)) })
	err = fn(cc)
	if !stop() {
		err = cmp.Or(ctx.Err(), err) // cancelled: the connection's deadline is spent
		cc.broken = true
	} else if !cc.limit.IsZero() && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(cc.limit) {
		err = context.DeadlineExceeded // the context's, which its timer may not have marked yet
	}
	c.release(cc, err)
	if err != nil {
		return c.fail(op, key, err)
	}
	return nil
}

// fail wraps a request's error with what the request was.
func (c *Client) fail(op, key string, err error) error {
	if key == "" {
		return fmt.Errorf("memproto: %s on %s: %w", op, c.addr, err)
	}
	return fmt.Errorf("memproto: %s %q on %s: %w", op, key, c.addr, err)
}

// conn returns an idle connection or dials a new one.
func (c *Client) conn(ctx context.Context, deadline time.Time) (*clientConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClientClosed
	}
	if n := len(c.idle); n > 0 {
		cc := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cc, nil
	}
	c.mu.Unlock()
	return dialClientConn(ctx, c.addr, deadline, c.opts)
}

// release returns cc to the pool, or closes it after a failed request.
func (c *Client) release(cc *clientConn, err error) {
	if cc.broken || err != nil {
		cc.nc.Close()
		return
	}
	c.mu.Lock()
	if !c.closed && len(c.idle) < c.opts.MaxIdle {
		c.idle = append(c.idle, cc)
		cc = nil
	}
	c.mu.Unlock()
	if cc != nil {
		cc.nc.Close()
	}
}
