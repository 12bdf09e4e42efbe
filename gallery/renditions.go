package gallery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picpool/picpool/photo"
)

// Renditions are made on first request, not at upload: an upload is
// answered once its original is stored, and a key that is never viewed
// costs no decode. One request makes both sizes from one decode of the
// original (pool.GetOrMake, one flight per key), and the pool keeps them
// beside it, under derived keys that Upload's invalidation names: a
// rendition is never served from an older original than the original
// itself would be.

// Renditions are the sizes the pages use, by name.
var Renditions = map[string]photo.Size{photo.Thumb.Name: photo.Thumb, photo.Display.Name: photo.Display}

// renditionNames are the derived values the pool keeps beside a key.
var renditionNames = []string{photo.Display.Name, photo.Thumb.Name}

// ErrNoRendition is returned by FetchRendition for a size it does not make.
var ErrNoRendition = errors.New("gallery: no such rendition")

// FetchRendition returns the rendition named size (a key of Renditions)
// of the image under key: from the pool on a hit, else made from the
// original (itself from the pool, or storage) with every other size, and
// kept. Its Hash is the original's.
func (g *Service) FetchRendition(ctx context.Context, key, size string) (Fetched, error) {
	s, ok := Renditions[size]
	if !ok {
		return Fetched{}, FieldErrorf(Invalid, "size", "There is no rendition %q: ask for thumb or display.", size)
	}
	key, kerr := ParseKey(key)
	if kerr != nil {
		return Fetched{}, kerr
	}
	start := time.Now()
	f := Fetched{Key: key, Rendition: s.Name}
	load := g.loader(key)
	var data []byte
	var version uint64
	var err error
	if g.cache.Table().Config.Capacity == 0 {
		f.CacheOff = true
		var original []byte
		if original, version, err = load(ctx); err == nil {
			var made map[string][]byte
			if made, err = g.render(ctx, original); err == nil {
				data = made[s.Name]
			}
		}
	} else {
		data, version, f.Hit, err = g.cache.GetOrMake(ctx, key, s.Name, load, g.render)
	}
	if errors.Is(err, ErrNotFound) {
		return Fetched{}, FieldErrorf(NotFound, "key", "No image is stored under the key %q.", key)
	}
	if err != nil {
		return Fetched{}, fmt.Errorf("fetch %s of %q: %w", s.Name, key, err)
	}
	f.Data, f.Version, f.Latency = data, int64(version), time.Since(start)
	f.ContentType = photo.ContentType(data)
	if facts, ok := g.versions.get(f.Version); ok {
		f.Hash, f.Modified = facts.hash, facts.modified
	} else if o, err := g.Fetch(ctx, key); err == nil && o.Version == f.Version {
		// A hit on a version this process has not seen: its original
		// tells (and is most likely a hit too).
		f.Hash, f.Modified = o.Hash, o.Modified
	}
	f.Width, f.Height, _ = photo.Dimensions(data)
	return f, nil
}

// render makes every rendition of an original, one at a time per core:
// a 12 MP decode holds some 50 MB and a core for a quarter of a second.
func (g *Service) render(ctx context.Context, original []byte) (map[string][]byte, error) {
	select {
	case g.making <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-g.making }()
	sizes := make([]photo.Size, len(renditionNames))
	for i, n := range renditionNames {
		sizes[i] = Renditions[n]
	}
	rs, err := photo.Renditions(original, photo.Options{MaxPixels: g.check.Limits().MaxPixels, Sizes: sizes})
	if err != nil {
		return nil, fmt.Errorf("make renditions: %w", err)
	}
	out := make(map[string][]byte, len(rs))
	for _, r := range rs {
		out[r.Size.Name] = r.Data
	}
	return out, nil
}

// RenditionSize is the pixel size of an upright w×h original's rendition
// named size, for a page's width and height attributes; 0, 0 when the
// original's size is unknown.
func RenditionSize(size string, w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	return Renditions[size].Fit(w, h)
}
