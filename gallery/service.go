package gallery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/photo"
)

// ImageStore keeps images: their rows and their blobs, with the upload
// flow's ordering (store.Library). A failure to reach the backend is any
// error; ErrNotFound, ErrInvalid and ErrOutcomeUnknown (wrapped) say more.
type ImageStore interface {
	// Put stores a new image or replaces one: blob, then row (with a new
	// version, never given before), then the old blob goes. The caller
	// invalidates the cache.
	// The row keeps c and the bytes' ContentHash.
	Put(ctx context.Context, key string, c Content, data []byte) (Image, error)
	// Load returns the image's row and bytes, or an error wrapping
	// ErrNotFound.
	Load(ctx context.Context, key string) (Image, []byte, error)
	// Stat returns the image's row, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (Image, error)
	// List returns one page of images, newest first, whose keys start with
	// prefix, and how many match in all.
	List(ctx context.Context, o ListOptions) ([]Image, int, error)
	// Keys returns every key, newest first.
	Keys(ctx context.Context) ([]string, error)
	// DeleteAll removes every row and blob, and raises the cache's
	// generation in the same transaction (see pool.Fences).
	DeleteAll(ctx context.Context) error
}

// Cache is what the gallery needs of the cache pool.
type Cache interface {
	GetOrLoad(ctx context.Context, key string, load pool.LoadFunc) ([]byte, uint64, bool, error)
	GetOrMake(ctx context.Context, key, name string, load pool.LoadFunc, build pool.MakeFunc) ([]byte, uint64, bool, error)
	Invalidate(ctx context.Context, key string, version uint64, derived ...string) error
	Purge(ctx context.Context) error
	Clear(ctx context.Context) error
	Table() pool.Table
	Window(ctx context.Context) node.Counts
}

// Service is the gallery: upload, fetch, list and delete images, shared
// by its pages and the test API.
type Service struct {
	images ImageStore
	cache  Cache
	check  *photo.Checker
	log    *slog.Logger

	versions versions      // facts of the versions seen: see versions.go
	making   chan struct{} // one slot per rendition being made: see renditions.go
}

// NewService returns the gallery over its storage and cache, taking the
// images within limits.
func NewService(images ImageStore, c Cache, limits photo.Limits, log *slog.Logger) *Service {
	return &Service{
		images: images, cache: c, check: photo.NewChecker(limits), log: log,
		making: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
}

// Nodes returns how many nodes the pool routes to.
func (g *Service) Nodes() int { return len(g.cache.Table().Members) }

// MaxUpload returns the largest file accepted, in bytes.
func (g *Service) MaxUpload() int64 { return g.check.Limits().MaxBytes }

// Upload validates and stores an image under key (in its stored
// spelling, see ParseKey), replacing any image there. It returns the
// stored image or an *Error for the user.
func (g *Service) Upload(ctx context.Context, key string, data []byte) (Image, error) {
	key, kerr := ParseKey(key)
	if kerr != nil {
		return Image{}, kerr
	}
	contentType, err := g.check.Check(ctx, data)
	if err != nil {
		return Image{}, fileError(err)
	}
	c := Content{Type: contentType}
	if w, h, err := photo.Dimensions(data); err == nil {
		c.Width, c.Height = w, h
	}
	img, err := g.images.Put(ctx, key, c, data)
	if err != nil {
		return Image{}, fmt.Errorf("upload %q: %w", key, storageError(err))
	}
	// The row is committed: the cache must forget the old image even if
	// the client has gone, and the upload is acknowledged only once no
	// read, anywhere, can return the old image (see pool.Pool.Invalidate).
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invalidateTimeout)
	defer cancel()
	if err := g.cache.Invalidate(ictx, key, uint64(img.Version), renditionNames...); err != nil {
		g.log.Warn("upload stored, but the cache could not forget the previous image", "key", key, "version", img.Version, "err", err)
		return img, Errorf(Unavailable, "Your image was stored, but the cache could not be told to forget the previous one, so it may still be shown for a while. Upload it again to be sure.")
	}
	g.versions.put(img.Version, facts{hash: img.Hash, modified: img.Updated, width: img.Width, height: img.Height})
	return img, nil
}

// invalidateTimeout bounds the cache's invalidation after an upload: a
// fenced node costs a database write and a lease (see pool.Fences).
const invalidateTimeout = 10 * time.Second

// Fetched is an image as the gallery serves it.
type Fetched struct {
	Key         string
	Data        []byte
	ContentType string
	Version     int64
	// Hash is the original's ContentHash (a rendition's too: it is made
	// from that original), for the URL's version and the ETag; "" when it
	// could not be learned (the row moved on meanwhile).
	Hash string
	// Modified is when the original was stored; zero when unknown.
	Modified time.Time
	// Width and Height are the original's upright pixel size (0 if
	// unknown); for a rendition, the rendition's.
	Width, Height int
	// Rendition names the rendition served, "" for the original.
	Rendition string
	Hit       bool          // served from the cache pool
	CacheOff  bool          // the pool has no capacity: storage served it
	Latency   time.Duration // of the whole fetch
}

// Fetch returns the image under key (in any spelling ParseKey takes):
// from its cache node on a hit, else
// from storage (one load per key at a time), putting it into the node.
func (g *Service) Fetch(ctx context.Context, key string) (Fetched, error) {
	key, kerr := ParseKey(key)
	if kerr != nil {
		return Fetched{}, kerr
	}
	f, err := g.fetch(ctx, key, "", func(load pool.LoadFunc) ([]byte, uint64, bool, error) {
		return g.cache.GetOrLoad(ctx, key, load)
	}, func(original []byte) ([]byte, error) { return original, nil })
	if err != nil {
		return Fetched{}, err
	}
	data := f.Data
	facts := g.originalFacts(ctx, key, f.Version, data)
	f.Hash, f.Modified, f.Width, f.Height = facts.hash, facts.modified, facts.width, facts.height
	return f, nil
}

// fetch is Fetch and FetchRendition's common path: through the pool
// (cached: GetOrLoad or GetOrMake), or, when the pool has no capacity,
// from storage (direct: what to serve of the original).
func (g *Service) fetch(ctx context.Context, key, rendition string,
	cached func(pool.LoadFunc) ([]byte, uint64, bool, error), direct func(original []byte) ([]byte, error)) (Fetched, error) {
	start := time.Now()
	f := Fetched{Key: key, Rendition: rendition}
	load := g.loader(key)
	var data []byte
	var version uint64
	var err error
	if g.cache.Table().Config.Capacity == 0 {
		f.CacheOff = true
		if data, version, err = load(ctx); err == nil {
			data, err = direct(data)
		}
	} else {
		data, version, f.Hit, err = cached(load)
	}
	if errors.Is(err, ErrNotFound) {
		return Fetched{}, FieldErrorf(NotFound, "key", "No image is stored under the key %q.", key)
	}
	if err != nil {
		what := "fetch"
		if rendition != "" {
			what += " " + rendition + " of"
		}
		return Fetched{}, fmt.Errorf("%s %q: %w", what, key, err)
	}
	f.Data, f.Version, f.Latency = data, int64(version), time.Since(start)
	f.ContentType = photo.ContentType(data) // a hit carries bytes only; they were sniffed at upload
	return f, nil
}

// loader loads key's original from storage, keeping its version's facts.
func (g *Service) loader(key string) pool.LoadFunc {
	return func(ctx context.Context) ([]byte, uint64, error) {
		img, data, err := g.images.Load(ctx, key)
		if err != nil {
			return nil, 0, storageError(err)
		}
		g.versions.put(img.Version, rowFacts(img, data))
		return data, uint64(img.Version), nil
	}
}

// DeleteAll removes every image, all or nothing: the rows go in one
// transaction that also retires every cache entry (the pool's generation),
// then the cache waits until no process can read an old entry, even from
// a node that is down now, before DeleteAll answers.
func (g *Service) DeleteAll(ctx context.Context) error {
	if err := g.images.DeleteAll(ctx); err != nil {
		return fmt.Errorf("delete all images: %w", storageError(err))
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invalidateTimeout)
	defer cancel()
	if err := g.cache.Purge(pctx); err != nil {
		g.log.Warn("delete all: images deleted, but the cache could not confirm it forgot them", "err", err)
		return Errorf(Unavailable, "Every image was deleted, but the cache could not confirm that it forgot them (the database stopped answering), so some may still be shown for a while.")
	}
	return nil
}

// Keys returns every key, newest first.
func (g *Service) Keys(ctx context.Context) ([]string, error) {
	keys, err := g.images.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", storageError(err))
	}
	return keys, nil
}

// List returns a page of images, newest first, with keys starting with
// the prefix (in NFC, as keys are), and the number of matches.
func (g *Service) List(ctx context.Context, o ListOptions) ([]Image, int, error) {
	o.Prefix = NormalizeKey(o.Prefix)
	imgs, total, err := g.images.List(ctx, o)
	if err != nil {
		return nil, 0, fmt.Errorf("list images: %w", storageError(err))
	}
	return imgs, total, nil
}

// fileError is what the user is told about an upload's file that the
// image check refused.
func fileError(err error) error {
	var r *photo.Refusal
	if !errors.As(err, &r) {
		return err
	}
	code := map[photo.Kind]Code{
		photo.Empty: Invalid, photo.TooLarge: TooLarge, photo.NotImage: Unsupported,
		photo.Damaged: Unsupported, photo.Busy: Unavailable,
	}[r.Kind]
	return &Error{Code: code, Field: "file", Message: r.Message}
}
