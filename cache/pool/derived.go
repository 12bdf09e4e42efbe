package pool

import (
	"context"
	"fmt"

	"github.com/picpool/picpool/cache/nodekey"
)

// Derived entries: values made from a key's value (renditions of an
// image), stored beside it under nodekey.Key.Derived names at the
// original's version. They route with the original (same partition, same
// node, moved together by a resize), live in the same namespace (so a
// fence or the generation retires them with it), and Invalidate given
// their names deletes them with the original, leaving the same tombstones:
// a maker still holding the old original cannot put an old rendition back.

// MakeFunc makes every value derived from one original, by name. The pool
// stores each under its derived key, so one original is decoded once for
// all of them.
type MakeFunc func(ctx context.Context, original []byte) (map[string][]byte, error)

// GetOrMake returns the value named name derived from key's value, and
// the original's version. On a miss it gets the original (GetOrLoad: from
// its node, or load), makes every derived value from it with build, and
// puts them into the node at the original's version. Concurrent misses on
// any of key's derived values share one make. hit reports whether the
// derived value came from the pool.
func (p *Pool) GetOrMake(ctx context.Context, key, name string, load LoadFunc, build MakeFunc) (value []byte, version uint64, hit bool, err error) {
	v, k := p.view(ctx), nodekey.Of(key)
	if value, version, ok := p.find(ctx, v, k.Derived(name), counted); ok {
		return value, version, true, nil
	}
	res, err := p.makeDerived(ctx, v, k, key, key, name, load, build)
	if _, ok := res.values[name]; err == nil && !ok {
		// The flight this caller joined found another name already in
		// the pool and fetched only that one: run a flight of its own.
		res, err = p.makeDerived(ctx, v, k, key, key+"@"+name, name, load, build)
	}
	if err != nil {
		return nil, 0, false, err
	}
	value, ok := res.values[name]
	if !ok {
		return nil, 0, false, fmt.Errorf("cache: %q: nothing named %q is derived from it", key, name)
	}
	return value, res.version, false, nil
}

// makeDerived runs one flight (under flightKey) that finds name in the pool, or
// gets key's original and makes and stores all its derived values.
func (p *Pool) makeDerived(ctx context.Context, v view, k nodekey.Key, key, flightKey, name string, load LoadFunc, build MakeFunc) (made, error) {
	res, _, err := p.makes.do(ctx, flightKey, func() (made, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.LoadTimeout)
		defer cancel()
		// As in GetOrLoad: a flight that ended just before this one may
		// have put it in. A peek, so that one lookup is one miss.
		if value, version, ok := p.find(lctx, v, k.Derived(name), peek); ok {
			return made{values: map[string][]byte{name: value}, version: version}, nil
		}
		original, version, _, err := p.GetOrLoad(lctx, key, load)
		if err != nil {
			return made{}, err
		}
		values, err := build(lctx, original)
		if err != nil {
			return made{}, fmt.Errorf("cache: make what %q derives: %w", key, err)
		}
		for n, value := range values {
			// Into the namespace the lookup used: a fence raised since
			// then retires these with the original.
			p.set(lctx, v, k.Derived(n), version, value)
		}
		return made{values: values, version: version}, nil
	})
	return res, err
}

// made is one flight's result: the derived values by name, and the
// original's version.
type made struct {
	values  map[string][]byte
	version uint64
}
