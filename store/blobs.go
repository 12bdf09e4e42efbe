package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// Blobs stores image bytes under object names. Implementations are safe
// for concurrent use.
type Blobs interface {
	// Put stores data under name, replacing any object of that name.
	Put(ctx context.Context, name, contentType string, data []byte) error
	// Get returns the object's bytes, or an error wrapping ErrNotFound.
	Get(ctx context.Context, name string) ([]byte, error)
	// Delete removes the object; a missing object is not an error.
	Delete(ctx context.Context, name string) error
	// DeleteMany removes the named objects; missing ones are not an error.
	DeleteMany(ctx context.Context, names []string) error
}

// OpenBlobs opens the blob store at url:
//
//	file:DIR                a folder (created if missing), e.g. file:data/blobs
//	s3://bucket/prefix      an S3 bucket, objects under prefix/
//
// S3 takes its region, credentials and endpoint from the standard AWS
// chain (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ~/.aws, an
// instance role, …), addresses buckets path-style only with a custom
// endpoint (an S3-compatible server), needs a region on AWS itself, and
// checks at open that the bucket answers.
func OpenBlobs(ctx context.Context, url string) (Blobs, error) {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok {
		return nil, fmt.Errorf("store: blob store address %q has no scheme (want file:DIR or s3://bucket/prefix)", url)
	}
	switch strings.ToLower(scheme) {
	case "file":
		b, err := openFileBlobs(rest)
		if err != nil {
			return nil, fmt.Errorf("store: open blobs %s: %w", url, err)
		}
		return b, nil
	case "s3":
		b, err := openS3Blobs(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("store: open blobs %s: %w", redactURL(url), err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("store: blob store address %q: unknown scheme %q (want file:DIR or s3://bucket/prefix)", redactURL(url), scheme)
	}
}

// redactURL hides a password, should an address ever carry one.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// objectExt maps the content types PicPool accepts to file extensions, so
// that objects are recognisable in a folder or bucket listing.
var objectExt = map[string]string{
	"image/png":  ".png",
	"image/jpeg": ".jpg",
	"image/gif":  ".gif",
	"image/webp": ".webp",
}

// newObjectName returns a fresh, random object name for one upload, such
// as "img/2f9c…e1.png": never the user's file name (which could collide,
// traverse folders or leak), and never reused, so that an upload never
// overwrites the blob a committed row points at.
func newObjectName(contentType string) string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "img/" + hex.EncodeToString(b[:]) + objectExt[contentType]
}
