package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picpool/picpool/cache/memproto"
)

// ErrUnavailable wraps every failure to reach a node or to get a
// well-formed answer from it. The pool turns it into a miss.
var ErrUnavailable = errors.New("cache: node unavailable")

// Client talks to one node: item operations over the node's data port
// (memcached's protocol, found through /v1/stats) when it has one,
// everything else over its HTTP API. Connections are kept and reused. Safe for concurrent
// use.
type Client struct {
	addr    string // host:port of the HTTP API
	token   string
	http    *http.Client
	timeout time.Duration // a request's budget before its value's transfer (see budget)

	mu         sync.Mutex
	data       *memproto.Client // nil: items go over HTTP
	dataTried  time.Time        // when discovery last ran
	dataClosed bool
}

// NewClient returns a client for the node at addr ("host:port").
// httpClient is shared between clients for connection reuse; timeout is
// each request's budget before the transfer of its value (see budget).
func NewClient(addr, token string, httpClient *http.Client, timeout time.Duration) *Client {
	return &Client{addr: addr, token: token, http: httpClient, timeout: timeout}
}

// minTransferRate is the slowest a node may move a value's bytes before a
// request to it counts as failed: 20 MiB/s is far below any link between
// a gallery and its nodes, and a 10 MiB image still gets half a second.
const minTransferRate = 20 << 20

// budget is how long a request that moves n value bytes may take: the
// round trip's allowance plus the transfer at minTransferRate. Tight
// budgets are what keep a frozen node from holding requests: it costs one
// budget, then the pool opens its circuit.
func (c *Client) budget(n int) time.Duration {
	return c.timeout + time.Duration(n)*time.Second/minTransferRate
}

// deadline is the earlier of ctx's deadline and budget(n) from now.
func (c *Client) deadline(ctx context.Context, n int) time.Time {
	d := time.Now().Add(c.budget(n))
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// Addr returns the node's HTTP address.
func (c *Client) Addr() string { return c.addr }

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
func (c *Client) withControl(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, controlTimeout)
}

// withBudget bounds ctx by budget(n).
func (c *Client) withBudget(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, c.deadline(ctx, n))
}

func (c *Client) unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s %s: %v", ErrUnavailable, op, c.addr, err)
}

// Close drops the client's idle data connections.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dataClosed = true
	if c.data != nil {
		c.data.Close()
	}
}

// Clear drops every item on the node.
func (c *Client) Clear(ctx context.Context) error {
	ctx, cancel := c.withControl(ctx)
	defer cancel()
	return c.expect(ctx, "clear", http.MethodDelete, "/v1/items", nil, nil, http.StatusNoContent, nil)
}

// Status returns the node's statistics and configuration.
func (c *Client) Status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	return c.status(ctx)
}

func (c *Client) status(ctx context.Context) (Status, error) {
	var st Status
	err := c.expect(ctx, "stats", http.MethodGet, "/v1/stats", nil, nil, http.StatusOK, &st)
	return st, err
}

// Configure sets the node's capacity and policy.
func (c *Client) Configure(ctx context.Context, cfg Config) error {
	ctx, cancel := c.withControl(ctx)
	defer cancel()
	body, _ := json.Marshal(cfg)
	h := http.Header{"Content-Type": {"application/json"}}
	return c.expect(ctx, "configure", http.MethodPut, "/v1/config", h, bytes.NewReader(body), http.StatusOK, nil)
}

// Partitions streams the node's entries (items and tombstones) of the
// given partitions to fn. It has no overall timeout (a large move takes as
// long as it takes); ctx bounds it.
func (c *Client) Partitions(ctx context.Context, partitioner string, parts []int, fn func(Entry) error) error {
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
		e, err := readEntry(br, 1<<32, func(n int) []byte { return make([]byte, n) })
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
func (c *Client) DropPartitions(ctx context.Context, partitioner string, parts []int) (int, error) {
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
func (c *Client) Import(ctx context.Context, entries io.Reader) (ImportResult, error) {
	var res ImportResult
	err := c.expect(ctx, "import", http.MethodPost, "/v1/items", nil, entries, http.StatusOK, &res)
	return res, err
}

// do sends one authorized request to the node's HTTP API.
func (c *Client) do(ctx context.Context, method, path string, h http.Header, body io.Reader) (*http.Response, error) {
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
func (c *Client) expect(ctx context.Context, op, method, path string, h http.Header, body io.Reader, want int, into any) error {
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

// Ping asks the node's /healthz, within the budget of a request without a
// value.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := c.withBudget(ctx, 0)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unavailable("health check", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.unavailable("health check", statusError(resp))
	}
	return nil
}
