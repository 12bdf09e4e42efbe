package node

import (
	"context"
	"net"
	"time"

	"github.com/picpool/picpool/cache/memproto"
)

// dataClient returns the memcached client of the node's data port,
// discovering the port through /v1/stats at most every 10 s; nil means
// use HTTP.
func (c *Client) dataClient(ctx context.Context) *memproto.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data != nil || c.dataClosed || time.Since(c.dataTried) < 10*time.Second {
		return c.data
	}
	c.dataTried = time.Now()
	ctx, cancel := c.withBudget(ctx, 0)
	defer cancel()
	st, err := c.status(ctx)
	if err != nil || st.DataAddr == "" {
		return nil
	}
	_, port, err1 := net.SplitHostPort(st.DataAddr)
	host, _, err2 := net.SplitHostPort(c.addr)
	if err1 != nil || err2 != nil {
		return nil
	}
	c.data = memproto.NewClient(net.JoinHostPort(host, port), memproto.ClientOptions{
		Token: c.token, Timeout: c.timeout, MinRate: minTransferRate, MaxIdle: 64,
	})
	return c.data
}

// ForgetDataPath drops the data port's connections and address, so that
// the next item request discovers them again. A node that restarted may
// serve its data port elsewhere: the pool calls this when a node it gave
// up on answers again.
func (c *Client) ForgetDataPath() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data != nil {
		c.data.Close()
	}
	c.data, c.dataTried = nil, time.Time{}
}
