package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/memproto"
)

// The item operations go over the node's data port (memcached's meta
// commands: mg, ms E, md E) when it has one, and over its HTTP API
// otherwise.

// Get returns key's value and version; a miss is (nil, 0, false, nil).
func (c *Client) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, false)
}

// Peek is Get without counting the lookup in the node's statistics.
func (c *Client) Peek(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, true)
}

func (c *Client) get(ctx context.Context, key string, peek bool) ([]byte, uint64, bool, error) {
	if d := c.dataClient(ctx); d != nil {
		// The data port budgets the value's bytes once it knows their
		// number (memproto's MinRate).
		get := d.Get
		if peek {
			get = d.Peek
		}
		value, version, hit, err := get(ctx, key)
		if err != nil {
			return nil, 0, false, c.unavailable("get", err)
		}
		return value, version, hit, nil
	}
	// Over HTTP the budget must cover the largest value a node takes.
	ctx, cancel := c.withBudget(ctx, DefaultMaxItemBytes)
	defer cancel()
	path := "/v1/items/" + url.PathEscape(key)
	if peek {
		path += "?peek=1"
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
func (c *Client) Set(ctx context.Context, key string, version uint64, value []byte) (bool, error) {
	if d := c.dataClient(ctx); d != nil {
		stored, err := d.Set(ctx, key, version, value)
		var reply *memproto.ReplyError
		switch {
		case errors.As(err, &reply) && strings.HasPrefix(reply.Line, "SERVER_ERROR"):
			// "object too large for cache" or "out of memory storing object"
			return false, fmt.Errorf("cache: set %q on %s: %w (%s)", key, c.addr, cache.ErrTooLarge, reply.Line)
		case err != nil:
			return false, c.unavailable("set", err)
		}
		return stored, nil
	}
	ctx, cancel := c.withBudget(ctx, len(value))
	defer cancel()
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
		return false, fmt.Errorf("cache: set %q on %s: %w", key, c.addr, cache.ErrTooLarge)
	}
	return false, c.unavailable("set", statusError(resp))
}

// Delete removes key; a version above zero keeps older versions out for a
// while (see Node).
func (c *Client) Delete(ctx context.Context, key string, version uint64) error {
	if d := c.dataClient(ctx); d != nil {
		if err := d.Delete(ctx, key, version); err != nil {
			return c.unavailable("delete", err)
		}
		return nil
	}
	ctx, cancel := c.withBudget(ctx, 0)
	defer cancel()
	h := http.Header{VersionHeader: {strconv.FormatUint(version, 10)}}
	return c.expect(ctx, "delete", http.MethodDelete, "/v1/items/"+url.PathEscape(key), h, nil, http.StatusNoContent, nil)
}
