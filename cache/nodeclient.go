package cache

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNodeUnavailable wraps every failure to reach a node or to get a
// well-formed answer from it. The pool turns it into a miss.
var ErrNodeUnavailable = errors.New("cache: node unavailable")

// NodeClient talks to one node: item operations over the node's binary
// data path when it has one (found through /v1/stats), everything else
// over its HTTP API. Connections are kept and reused. Safe for concurrent
// use.
type NodeClient struct {
	addr    string // host:port of the HTTP API
	token   string
	http    *http.Client
	timeout time.Duration // a request's budget before its value's transfer (see budget)

	// open is the node's circuit (see pool_health.go): set when a request
	// failed to reach the node, cleared when a probe finds it answering.
	open      atomic.Bool
	circuitMu sync.Mutex      // orders opening and the probe's closing
	probing   bool            // guarded by circuitMu
	life      context.Context // ends at Close: stops the probe
	stop      context.CancelFunc

	mu        sync.Mutex
	bin       *binPool  // nil: items go over HTTP
	binTried  time.Time // when discovery last ran
	binClosed bool
}

// NewNodeClient returns a client for the node at addr ("host:port").
// httpClient is shared between clients for connection reuse; timeout is
// each request's budget before the transfer of its value (see budget).
func NewNodeClient(addr, token string, httpClient *http.Client, timeout time.Duration) *NodeClient {
	life, stop := context.WithCancel(context.Background())
	return &NodeClient{addr: addr, token: token, http: httpClient, timeout: timeout, life: life, stop: stop}
}

// minTransferRate is the slowest a node may move a value's bytes before a
// request to it counts as failed: 20 MiB/s is far below any link between
// a gallery and its nodes, and a 10 MiB image still gets half a second.
const minTransferRate = 20 << 20

// budget is how long a request that moves n value bytes may take: the
// round trip's allowance plus the transfer at minTransferRate. Tight
// budgets are what keep a frozen node from holding requests: it costs one
// budget, then its circuit opens.
func (c *NodeClient) budget(n int) time.Duration {
	return c.timeout + time.Duration(n)*time.Second/minTransferRate
}

// deadline is the earlier of ctx's deadline and budget(n) from now.
func (c *NodeClient) deadline(ctx context.Context, n int) time.Time {
	d := time.Now().Add(c.budget(n))
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// Addr returns the node's HTTP address.
func (c *NodeClient) Addr() string { return c.addr }

// controlTimeout bounds the node's control operations (configure, clear,
// drop partitions, stats): they are not on a reader's path, and some move
// every item the node holds (a policy switch), so they get far longer than
// an item's budget.
const controlTimeout = 30 * time.Second

// statusTimeout bounds a request for the node's statistics: pages and
// health checks wait on it, and a node that does not answer in it is
// shown as down.
const statusTimeout = 2 * time.Second

// withControl bounds ctx for a control operation.
func (c *NodeClient) withControl(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, controlTimeout)
}

// withBudget bounds ctx by budget(n).
func (c *NodeClient) withBudget(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, c.deadline(ctx, n))
}

func (c *NodeClient) unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s %s: %v", ErrNodeUnavailable, op, c.addr, err)
}

// binary returns the node's binary connection pool, discovering it at
// most every 10 s; nil means use HTTP.
func (c *NodeClient) binary(ctx context.Context) *binPool {
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

// forgetDataPath drops the binary data path's connections and address, so
// that the next item request discovers them again.
func (c *NodeClient) forgetDataPath() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bin != nil {
		c.bin.close()
	}
	c.bin, c.binTried = nil, time.Time{}
}

// Close drops the client's idle binary connections.
func (c *NodeClient) Close() {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.binClosed = true
	if c.bin != nil {
		c.bin.close()
	}
}

// Get returns key's value and version; a miss is (nil, 0, false, nil).
func (c *NodeClient) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, false)
}

// Peek is Get without counting the lookup in the node's statistics.
func (c *NodeClient) Peek(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, true)
}

func (c *NodeClient) get(ctx context.Context, key string, peek bool) ([]byte, uint64, bool, error) {
	// The binary path budgets the value's bytes once it knows their number;
	// over HTTP the budget must cover the largest value a node takes.
	ctx, cancel := c.withBudget(ctx, DefaultMaxItemBytes)
	defer cancel()
	op, path := binGet, "/v1/items/"+url.PathEscape(key)
	flags := byte(0)
	if peek {
		flags, path = binPeek, path+"?peek=1"
	}
	if b := c.binary(ctx); b != nil {
		status, version, value, err := b.roundTrip(ctx, op, flags, key, 0, nil)
		if err != nil {
			return nil, 0, false, c.unavailable("get", err)
		}
		if status == binMiss {
			return nil, 0, false, nil
		}
		if status != binOK {
			return nil, 0, false, c.unavailable("get", fmt.Errorf("status %d: %s", status, value))
		}
		return value, version, true, nil
	}
	resp, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, 0, false, c.unavailable("get", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, 0, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, false, c.unavailable("get", statusError(resp))
	}
	value, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, false, c.unavailable("get", err)
	}
	version, _ := strconv.ParseUint(resp.Header.Get(VersionHeader), 10, 64)
	return value, version, true, nil
}

// Set stores value under key at version. It reports false when the node
// ignored it because a newer version is resident.
func (c *NodeClient) Set(ctx context.Context, key string, version uint64, value []byte) (bool, error) {
	ctx, cancel := c.withBudget(ctx, len(value))
	defer cancel()
	if b := c.binary(ctx); b != nil {
		status, _, msg, err := b.roundTrip(ctx, binSet, 0, key, version, value)
		switch {
		case err != nil:
			return false, c.unavailable("set", err)
		case status == binOK:
			return true, nil
		case status == binStale:
			return false, nil
		case status == binTooLarge:
			return false, fmt.Errorf("cache: set %q on %s: %w", key, c.addr, ErrTooLarge)
		}
		return false, c.unavailable("set", fmt.Errorf("status %d: %s", status, msg))
	}
	h := http.Header{VersionHeader: {strconv.FormatUint(version, 10)}}
	resp, err := c.do(ctx, http.MethodPut, "/v1/items/"+url.PathEscape(key), h, bytes.NewReader(value))
	if err != nil {
		return false, c.unavailable("set", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return true, nil
	case http.StatusConflict:
		return false, nil
	case http.StatusRequestEntityTooLarge:
		return false, fmt.Errorf("cache: set %q on %s: %w", key, c.addr, ErrTooLarge)
	}
	return false, c.unavailable("set", statusError(resp))
}

// Delete removes key; a version above zero keeps older versions out for a
// while (see Node).
func (c *NodeClient) Delete(ctx context.Context, key string, version uint64) error {
	ctx, cancel := c.withBudget(ctx, 0)
	defer cancel()
	if b := c.binary(ctx); b != nil {
		status, _, msg, err := b.roundTrip(ctx, binDelete, 0, key, version, nil)
		if err != nil || status != binOK {
			return c.unavailable("delete", errors.Join(err, statusErr(status, msg)))
		}
		return nil
	}
	h := http.Header{VersionHeader: {strconv.FormatUint(version, 10)}}
	return c.expect(ctx, "delete", http.MethodDelete, "/v1/items/"+url.PathEscape(key), h, nil, http.StatusNoContent, nil)
}

func statusErr(status byte, msg []byte) error {
	if status == binOK {
		return nil
	}
	return fmt.Errorf("status %d: %s", status, msg)
}

// Clear drops every item on the node.
func (c *NodeClient) Clear(ctx context.Context) error {
	ctx, cancel := c.withControl(ctx)
	defer cancel()
	return c.expect(ctx, "clear", http.MethodDelete, "/v1/items", nil, nil, http.StatusNoContent, nil)
}

// Status returns the node's statistics and configuration.
func (c *NodeClient) Status(ctx context.Context) (NodeStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	return c.status(ctx)
}

func (c *NodeClient) status(ctx context.Context) (NodeStatus, error) {
	var st NodeStatus
	err := c.expect(ctx, "stats", http.MethodGet, "/v1/stats", nil, nil, http.StatusOK, &st)
	return st, err
}

// Configure sets the node's capacity and policy.
func (c *NodeClient) Configure(ctx context.Context, cfg NodeConfig) error {
	ctx, cancel := c.withControl(ctx)
	defer cancel()
	body, _ := json.Marshal(cfg)
	h := http.Header{"Content-Type": {"application/json"}}
	return c.expect(ctx, "configure", http.MethodPut, "/v1/config", h, bytes.NewReader(body), http.StatusOK, nil)
}

// Partitions streams the node's entries (items and tombstones) of the
// given partitions to fn. It has no overall timeout (a large move takes as
// long as it takes); ctx bounds it.
func (c *NodeClient) Partitions(ctx context.Context, partitioner string, parts []int, fn func(Entry) error) error {
	resp, err := c.do(ctx, http.MethodGet, partitionsPath(partitioner, parts), nil, nil)
	if err != nil {
		return c.unavailable("partitions", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.unavailable("partitions", statusError(resp))
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		e, _, err := readEntry(br, 1<<32)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return c.unavailable("partitions", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// DropPartitions removes the node's items of the given partitions.
func (c *NodeClient) DropPartitions(ctx context.Context, partitioner string, parts []int) (int, error) {
	ctx, cancel := c.withControl(ctx)
	defer cancel()
	var res struct{ Dropped int }
	err := c.expect(ctx, "drop partitions", http.MethodDelete, partitionsPath(partitioner, parts), nil, nil, http.StatusOK, &res)
	return res.Dropped, err
}

func partitionsPath(partitioner string, parts []int) string {
	ps := make([]string, len(parts))
	for i, p := range parts {
		ps[i] = strconv.Itoa(p)
	}
	return "/v1/partitions/" + strings.Join(ps, ",") + "?partitioner=" + url.QueryEscape(partitioner)
}

// Import sends an entry stream (see entries.go) as versioned sets.
func (c *NodeClient) Import(ctx context.Context, entries io.Reader) (importResult, error) {
	var res importResult
	err := c.expect(ctx, "import", http.MethodPost, "/v1/items", nil, entries, http.StatusOK, &res)
	return res, err
}

// do sends one authorized request to the node's HTTP API.
func (c *NodeClient) do(ctx context.Context, method, path string, h http.Header, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.addr+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	return c.http.Do(req)
}

// expect sends a request and wants the given status; with into, it
// decodes a JSON answer.
func (c *NodeClient) expect(ctx context.Context, op, method, path string, h http.Header, body io.Reader, want int, into any) error {
	resp, err := c.do(ctx, method, path, h, body)
	if err != nil {
		return c.unavailable(op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		if resp.StatusCode == http.StatusBadRequest {
			return fmt.Errorf("cache: %s on %s: %w", op, c.addr, statusError(resp))
		}
		return c.unavailable(op, statusError(resp))
	}
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return c.unavailable(op, err)
		}
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return nil
}

func statusError(resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
}

// binPool keeps idle authenticated connections to a node's binary path.
type binPool struct {
	addr, token string
	idle        chan *binConn
	dialer      net.Dialer
	// deadline is when a request moving n value bytes must be done by
	// (NodeClient.deadline); nil: ctx's deadline only.
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
// not safe for concurrent use; NodeClient pools connections for everyone
// else.
type BinaryConn struct{ bc *binConn }

// DialBinary connects to a node's binary data path and authenticates.
func DialBinary(ctx context.Context, addr, token string) (*BinaryConn, error) {
	p := &binPool{addr: addr, token: token, idle: make(chan *binConn)}
	bc, err := p.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrNodeUnavailable, addr, err)
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
