package gallery

import "time"

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
}

// ListOptions selects a page of images.
type ListOptions struct {
	Prefix string // only keys starting with Prefix (taken literally)
	Limit  int    // at most this many; 0 or less: all
	Offset int    // skip this many first
}
