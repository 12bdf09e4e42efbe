package gallery

import (
	"context"
	"fmt"

	"github.com/picpool/picpool/cache/pool"

	"github.com/picpool/picpool/photo"
)

// Renditions are made on first request, not at upload: an upload is
// answered once its original is stored, and a key that is never viewed
// costs no decode. One request makes both sizes from one decode of the
// original (pool.GetOrMake, one flight per key), and the pool keeps them
// beside it, under derived keys that Upload's invalidation names: a
// rendition is never served from an older original than the original
// itself would be.

// Small is the grid's thumbnail for screens of ordinary density (its 160
// px cell); photo.Thumb is the same cell at twice the density.
var Small = photo.Size{Name: "small", MaxSide: 160}

// Renditions are the sizes the pages use, by name.
var Renditions = map[string]photo.Size{
	Small.Name: Small, photo.Thumb.Name: photo.Thumb, photo.Display.Name: photo.Display,
}

// renditionNames are the derived values the pool keeps beside a key.
var renditionNames = []string{photo.Display.Name, photo.Thumb.Name, Small.Name}

// FetchRendition returns the rendition named size (a key of Renditions)
// of the image under key: from the pool on a hit, else made from the
// original (itself from the pool, or storage) with every other size, and
// kept. Its Hash is the original's.
func (g *Service) FetchRendition(ctx context.Context, key, size string) (Fetched, error) {
	s, ok := Renditions[size]
	if !ok {
		return Fetched{}, FieldErrorf(Invalid, "size", "There is no rendition %q: ask for small, thumb or display.", size)
	}
	key, kerr := ParseKey(key)
	if kerr != nil {
		return Fetched{}, kerr
	}
	f, err := g.fetch(ctx, key, s.Name, func(load pool.LoadFunc) ([]byte, uint64, bool, error) {
		return g.cache.GetOrMake(ctx, key, s.Name, load, g.render)
	}, func(original []byte) ([]byte, error) {
		made, err := g.render(ctx, original)
		return made[s.Name], err
	})
	if err != nil {
		return Fetched{}, err
	}
	if facts, ok := g.versions.get(f.Version); ok {
		f.Hash, f.Modified = facts.hash, facts.modified
	} else if o, err := g.Fetch(ctx, key); err == nil && o.Version == f.Version {
		// A hit on a version this process has not seen: its original
		// tells (and is most likely a hit too).
		f.Hash, f.Modified = o.Hash, o.Modified
	}
	f.Width, f.Height, _ = photo.Dimensions(f.Data)
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
