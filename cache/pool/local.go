package pool

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/picpool/picpool/cache/node"
)

// LocalProvider runs the pool's nodes in this process, each a real HTTP
// server (and data port) on its own loopback port. `picpool dev`
// uses it; so do tests.
type LocalProvider struct {
	opts LocalOptions

	mu    sync.Mutex
	nodes []*localNode // in start order
}

var _ Provider = (*LocalProvider)(nil)

// LocalOptions configures NewLocalProvider.
type LocalOptions struct {
	// Node is the template of every node's options (Token is required;
	// Name is set to each node's address).
	Node node.Options
	// Host is the address nodes listen on. Default: 127.0.0.1.
	Host string
}

// localNode is one running node.
type localNode struct {
	addr string
	srv  *node.Server
}

// NewLocalProvider returns a provider with no nodes yet.
func NewLocalProvider(opts LocalOptions) (*LocalProvider, error) {
	if opts.Node.Token == "" {
		return nil, errors.New("cache: local nodes need a token")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	return &LocalProvider{opts: opts}, nil
}

// Members returns the addresses of the running nodes, in start order.
func (l *LocalProvider) Members(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.nodes))
	for i, n := range l.nodes {
		out[i] = n.addr
	}
	return out, nil
}

// SetSize starts nodes until n run. It never stops any: the pool drains
// a node and removes that very one.
func (l *LocalProvider) SetSize(ctx context.Context, n int) error {
	if n < MinNodes || n > MaxNodes {
		return fmt.Errorf("%w: %d nodes asked, the pool takes %d to %d", ErrSize, n, MinNodes, MaxNodes)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.nodes) < n {
		ln, err := l.start(ctx)
		if err != nil {
			return err
		}
		l.nodes = append(l.nodes, ln)
	}
	return nil
}

// start runs one node on two fresh loopback ports.
func (l *LocalProvider) start(ctx context.Context) (*localNode, error) {
	var lc net.ListenConfig
	hl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(l.opts.Host, "0"))
	if err != nil {
		return nil, fmt.Errorf("cache: start local node: %w", err)
	}
	bl, err := lc.Listen(ctx, "tcp", net.JoinHostPort(l.opts.Host, "0"))
	if err != nil {
		hl.Close()
		return nil, fmt.Errorf("cache: start local node: %w", err)
	}
	opts := l.opts.Node
	opts.Name = hl.Addr().String()
	n, err := node.New(opts)
	if err != nil {
		hl.Close()
		bl.Close()
		return nil, err
	}
	ln := &localNode{addr: hl.Addr().String(), srv: &node.Server{Node: n, HTTP: hl, Data: bl}}
	ln.srv.Start()
	return ln, nil
}

// Remove stops the given node and lowers the size by one. Requests in
// flight get a second to finish; connections that stay open after that
// (idle keep-alives that never sent a request, which Shutdown would wait
// on for 5 s) are closed: the pool has drained the node already.
func (l *LocalProvider) Remove(ctx context.Context, member string) error {
	ln, err := l.take(member)
	if err != nil {
		return err
	}
	ln.srv.Stop(time.Second)
	return nil
}

// Kill stops the given node at once, dropping its connections, as a crash
// would. Tests and demos use it to see the pool survive a dead node.
func (l *LocalProvider) Kill(member string) error {
	ln, err := l.take(member)
	if err != nil {
		return err
	}
	ln.srv.Stop(0)
	return nil
}

func (l *LocalProvider) take(member string) (*localNode, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.IndexFunc(l.nodes, func(n *localNode) bool { return n.addr == member })
	if i < 0 {
		return nil, fmt.Errorf("cache: no local node %s", member)
	}
	ln := l.nodes[i]
	l.nodes = slices.Delete(l.nodes, i, i+1)
	return ln, nil
}

// Node returns the running node at member, for tests and stats.
func (l *LocalProvider) Node(member string) (*node.Node, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.nodes {
		if n.addr == member {
			return n.srv.Node, true
		}
	}
	return nil, false
}

// Close stops every node.
func (l *LocalProvider) Close() error {
	members, _ := l.Members(context.Background())
	var errs []error
	for _, m := range members {
		errs = append(errs, l.Remove(context.Background(), m))
	}
	return errors.Join(errs...)
}
