package pool

import (
	"context"
	"encoding/binary"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/cache/node"
)

// hotValues keeps the values this process read from its nodes most
// recently, by node key, with their versions. A lookup of a value held
// here asks its node only for the version it holds now (mg c: no value)
// and serves the held bytes when it is the same: under one node key a
// version always names the same bytes (versions come from the database
// and are never reused; a raised fence or generation is another node
// key). So the node stays the one authority on what is current (an
// invalidation deletes there, and a node without a good fence view is not
// asked at all), while a hot value crosses neither the network nor the
// allocator again. The node counts the lookup as a hit or a miss as
// before, so the miss rate the autoscaler reads does not change.
//
// Values handed out are shared: callers must not modify them (the pool's
// values were never theirs to modify).
type hotValues struct{ e cache.Engine }

// DefaultHotBytes is the tier's default size: some hundreds of hot
// images of a gallery.
const DefaultHotBytes = 64 << 20

// newHotValues returns a tier of capacity bytes, or nil (none) when
// capacity is not positive.
func newHotValues(capacity int64) *hotValues {
	if capacity <= 0 {
		return nil
	}
	e, err := cache.New("lru", capacity)
	if err != nil {
		panic(err) // lru and a positive capacity: not reached
	}
	return &hotValues{e}
}

// get is a counted lookup of nk on c, served from the tier when c still
// holds the same version.
func (h *hotValues) get(ctx context.Context, c *node.Client, nk string) ([]byte, uint64, bool, error) {
	if h == nil {
		return c.Get(ctx, nk)
	}
	if held, ok := h.e.Get(nk); ok {
		version := binary.BigEndian.Uint64(held)
		current, hit, asked, err := c.Version(ctx, nk)
		if asked {
			switch {
			case err != nil:
				return nil, 0, false, err
			case hit && current == version:
				return held[8:], version, true, nil
			}
			h.e.Delete(nk)
			if !hit {
				return nil, 0, false, nil
			}
			// Replaced since: read the new value, as a peek, because
			// the node counted this lookup already.
			return h.read(ctx, c.Peek, nk)
		}
	}
	return h.read(ctx, c.Get, nk)
}

// read reads nk with get (the node client's Get or Peek) and keeps the
// value on a hit.
func (h *hotValues) read(ctx context.Context, get func(context.Context, string) ([]byte, uint64, bool, error), nk string) ([]byte, uint64, bool, error) {
	value, version, hit, err := get(ctx, nk)
	if hit && err == nil {
		held := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(value)), version)
		h.e.Set(nk, append(held, value...)) // too large for the tier: simply not kept
	}
	return value, version, hit, err
}
