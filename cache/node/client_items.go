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

	"github.com/picpool/picpool/cache"
)

// The item operations go over the node's binary data path when it has
// one (see binclient.go), and over its HTTP API otherwise.

// Get returns key's value and version; a miss is (nil, 0, false, nil).
func (c *Client) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, false)
}

// Peek is Get without counting the lookup in the node's statistics.
func (c *Client) Peek(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	return c.get(ctx, key, true)
}

func (c *Client) get(ctx context.Context, key string, peek bool) ([]byte, uint64, bool, error) {
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
func (c *Client) Set(ctx context.Context, key string, version uint64, value []byte) (bool, error) {
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
			return false, fmt.Errorf("cache: set %q on %s: %w", key, c.addr, cache.ErrTooLarge)
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
		return false, fmt.Errorf("cache: set %q on %s: %w", key, c.addr, cache.ErrTooLarge)
	}
	return false, c.unavailable("set", statusError(resp))
}

// Delete removes key; a version above zero keeps older versions out for a
// while (see Node).
func (c *Client) Delete(ctx context.Context, key string, version uint64) error {
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
