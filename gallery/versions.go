package gallery

import (
	"context"
	"sync"
	"time"

	"github.com/picpool/picpool/photo"
)

// Content facts of a stored version: what the HTTP validators and the
// pages need of an image (its hash, when it was stored, its size), kept
// in the process by version. A version is given once in a deployment's
// life and names one upload's bytes, so an entry never goes stale and
// needs no invalidation: a cache hit learns them without a database read,
// from the second request of a version on.

// facts are what versions keeps of one version.
type facts struct {
	hash          string
	modified      time.Time // zero when unknown
	width, height int
}

// maxVersions bounds the versions kept; past it the map starts again
// (the cost of a forgotten version is one hash and one row read).
const maxVersions = 1 << 16

type versions struct {
	mu sync.RWMutex
	m  map[int64]facts
}

func (v *versions) get(version int64) (facts, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	f, ok := v.m[version]
	return f, ok
}

func (v *versions) put(version int64, f facts) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVersions {
		v.m = make(map[int64]facts)
	}
	v.m[version] = f
}

// rowFacts are the facts a row holds, with what it lacks (a row stored
// before hashes and sizes were kept) computed from its bytes.
func rowFacts(img Image, data []byte) facts {
	f := facts{hash: img.Hash, modified: img.Updated, width: img.Width, height: img.Height}
	if f.hash == "" {
		f.hash = ContentHash(data)
	}
	if f.width == 0 || f.height == 0 {
		f.width, f.height, _ = photo.Dimensions(data)
	}
	return f
}

// originalFacts returns the facts of key's original at version, whose
// bytes are data: kept, or worked out from the bytes and the row.
func (g *Service) originalFacts(ctx context.Context, key string, version int64, data []byte) facts {
	if f, ok := g.versions.get(version); ok {
		return f
	}
	f := facts{hash: ContentHash(data)}
	f.width, f.height, _ = photo.Dimensions(data)
	if img, err := g.images.Stat(ctx, key); err == nil && img.Version == version {
		f.modified = img.Updated
	}
	// Otherwise the row has moved on: Last-Modified stays unknown, and
	// the version is not kept, so that a later request may learn it.
	if !f.modified.IsZero() {
		g.versions.put(version, f)
	}
	return f
}
