package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The client side of the binary data path (see binary.go): a pool of
// authenticated connections per node, found through the node's
// /v1/stats, and BinaryConn for clients that keep their own.

// binary returns the node's binary connection pool, discovering it at
// most every 10 s; nil means use HTTP.
func (c *Client) binary(ctx context.Context) *binPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bin != nil || c.binClosed || time.Since(c.binTried) < 10*time.Second {
		return c.bin
	}
	c.binTried = time.Now()
	ctx, cancel := c.withBudget(ctx, 0)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil || st.BinaryAddr == "" {
		return nil
	}
	_, port, err1 := net.SplitHostPort(st.BinaryAddr)
	host, _, err2 := net.SplitHostPort(c.addr)
	if err1 != nil || err2 != nil {
		return nil
	}
	c.bin = &binPool{addr: net.JoinHostPort(host, port), token: c.token, idle: make(chan *binConn, 64), deadline: c.deadline}
	return c.bin
}

// ForgetDataPath drops the binary data path's connections and address, so
// that the next item request discovers them again. A node that restarted
// may serve its data path on another port: the pool calls this when a
// node it gave up on answers again.
func (c *Client) ForgetDataPath() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bin != nil {
		c.bin.close()
	}
	c.bin, c.binTried = nil, time.Time{}
}

func statusErr(status byte, msg []byte) error {
	if status == binOK {
		return nil
	}
	return fmt.Errorf("status %d: %s", status, msg)
}

// binPool keeps idle authenticated connections to a node's binary path.
type binPool struct {
	addr, token string
	idle        chan *binConn
	dialer      net.Dialer
	// deadline is when a request moving n value bytes must be done by
	// (Client.deadline); nil: ctx's deadline only.
	deadline func(ctx context.Context, n int) time.Time
}

// binConn is one connection with its read buffer and scratch header.
type binConn struct {
	c   net.Conn
	br  *bufio.Reader
	hdr [binHeaderBytes]byte
}

func (p *binPool) get(ctx context.Context) (*binConn, error) {
	select {
	case bc := <-p.idle:
		return bc, nil
	default:
	}
	d := p.deadlineFor(ctx, 0) // zero: no deadline
	dctx := ctx
	if !d.IsZero() {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	c, err := p.dialer.DialContext(dctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	bc := &binConn{c: c, br: bufio.NewReaderSize(c, 32<<10)}
	c.SetDeadline(d)
	status, _, msg, err := bc.roundTrip(binAuth, 0, "", 0, []byte(p.token), nil)
	if err == nil && status != binOK {
		err = fmt.Errorf("authentication refused: %s", msg)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return bc, nil
}

func (p *binPool) deadlineFor(ctx context.Context, n int) time.Time {
	if p.deadline != nil {
		return p.deadline(ctx, n)
	}
	d, _ := ctx.Deadline()
	return d
}

func (p *binPool) put(bc *binConn) {
	select {
	case p.idle <- bc:
	default:
		bc.c.Close()
	}
}

func (p *binPool) close() {
	for {
		select {
		case bc := <-p.idle:
			bc.c.Close()
		default:
			return
		}
	}
}

// roundTrip runs one request on a pooled connection; the value of a reply
// is freshly allocated and belongs to the caller.
func (p *binPool) roundTrip(ctx context.Context, op, flags byte, key string, version uint64, value []byte) (status byte, v uint64, reply []byte, err error) {
	bc, err := p.get(ctx)
	if err != nil {
		return 0, 0, nil, err
	}
	// The request and the reply's header get the budget of the value sent;
	// the reply's value, once its length is known, the budget of its bytes.
	bc.c.SetDeadline(p.deadlineFor(ctx, len(value)))
	status, v, reply, err = bc.roundTrip(op, flags, key, version, value, func(n int) []byte {
		bc.c.SetDeadline(p.deadlineFor(ctx, n))
		return make([]byte, n)
	})
	if err != nil || status == binTooLarge || status == binBadRequest || status == binUnauthorized {
		bc.c.Close() // the server closes these too
	} else {
		p.put(bc)
	}
	return status, v, reply, err
}

// roundTrip writes a request and reads its reply. With into, the reply's
// value is read into into(n) instead of a new slice (lean clients reuse
// one buffer).
func (bc *binConn) roundTrip(op, flags byte, key string, version uint64, value []byte, into func(n int) []byte) (byte, uint64, []byte, error) {
	if len(key) > 0xFFFF || int64(len(value)) > 0xFFFFFFFF {
		return 0, 0, nil, errors.New("key or value too large for the binary protocol")
	}
	h := bc.hdr[:]
	clear(h)
	h[0], h[1] = op, flags
	binary.BigEndian.PutUint16(h[2:], uint16(len(key)))
	binary.BigEndian.PutUint32(h[4:], uint32(len(value)))
	binary.BigEndian.PutUint64(h[8:], version)
	bufs := net.Buffers{h, []byte(key), value}
	if _, err := bufs.WriteTo(bc.c); err != nil {
		return 0, 0, nil, err
	}
	if _, err := io.ReadFull(bc.br, h); err != nil {
		return 0, 0, nil, err
	}
	status := h[0]
	n := int(binary.BigEndian.Uint32(h[4:]))
	v := binary.BigEndian.Uint64(h[8:])
	var reply []byte
	if into != nil {
		reply = into(n)[:n]
	} else if n > 0 {
		reply = make([]byte, n)
	}
	if _, err := io.ReadFull(bc.br, reply); err != nil {
		return 0, 0, nil, err
	}
	return status, v, reply, nil
}

// BinaryConn is one connection to a node's binary data path, for clients
// that manage their own connections and buffers (benchmarks, tools). It is
// not safe for concurrent use; Client pools connections for everyone
// else.
type BinaryConn struct{ bc *binConn }

// DialBinary connects to a node's binary data path and authenticates.
func DialBinary(ctx context.Context, addr, token string) (*BinaryConn, error) {
	p := &binPool{addr: addr, token: token, idle: make(chan *binConn)}
	bc, err := p.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrUnavailable, addr, err)
	}
	bc.c.SetDeadline(time.Time{})
	return &BinaryConn{bc}, nil
}

// GetInto reads key's value into buf when it fits (else into a new
// slice) and returns it; a miss is (nil, 0, false, nil).
func (c *BinaryConn) GetInto(key string, buf []byte) ([]byte, uint64, bool, error) {
	status, version, value, err := c.bc.roundTrip(binGet, 0, key, 0, nil, func(n int) []byte {
		if n <= cap(buf) {
			return buf[:n]
		}
		return make([]byte, n)
	})
	if err != nil || status == binMiss {
		return nil, 0, false, err
	}
	if status != binOK {
		return nil, 0, false, fmt.Errorf("cache: get %q: status %d: %s", key, status, value)
	}
	return value, version, true, nil
}

// Set stores value under key at version; false means a newer version is
// resident.
func (c *BinaryConn) Set(key string, version uint64, value []byte) (bool, error) {
	status, _, msg, err := c.bc.roundTrip(binSet, 0, key, version, value, nil)
	switch {
	case err != nil:
		return false, err
	case status == binOK:
		return true, nil
	case status == binStale:
		return false, nil
	}
	return false, fmt.Errorf("cache: set %q: status %d: %s", key, status, msg)
}

// Close closes the connection.
func (c *BinaryConn) Close() error { return c.bc.c.Close() }
