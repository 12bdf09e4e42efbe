package gallery

import (
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Image is one stored image: its row in the database.
type Image struct {
	Key         string
	Object      string // the blob's name in the blob store: storage's own business
	ContentType string
	Size        int64 // bytes
	// Version is given by the deployment's one sequence at each upload and
	// never given twice, not even to a key deleted and uploaded again: the
	// cache pool uses it so that an older image never replaces a newer one.
	Version int64
	Created time.Time // first upload of the key (UTC, microseconds)
	Updated time.Time // latest upload
	// Hash is ContentHash of the bytes: the version in the URLs the pages
	// use, and the ETag. "" for a row stored before hashes were kept,
	// until its bytes are next read.
	Hash string
	// Width and Height are the pixel size upright (EXIF orientation
	// applied); 0 for a row stored before sizes were kept.
	Width, Height int
}

// Content is what the upload's check learned of its bytes, stored with
// its row.
type Content struct {
	Type          string // MIME type, judged by the content
	Width, Height int    // pixel size, upright
}

// ContentHash names an image's bytes: the first 128 bits of their
// SHA-256, base64url without padding (22 characters, safe in a URL and an
// ETag). Two different images meeting on it is out of reach.
func ContentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// ListOptions selects a page of images.
type ListOptions struct {
	Prefix string // only keys starting with Prefix (taken literally)
	Limit  int    // at most this many; 0 or less: all
	Offset int    // skip this many first
}
