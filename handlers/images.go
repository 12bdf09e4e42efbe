package handlers

import (
	"net/http"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/views"
)

// Images are served at two kinds of URL (views.ImageURL):
//
//   - /image/{key}, optionally ?size=thumb|small|display: whatever is
//     stored under the key now. The key may be replaced at any moment, so
//     caches must revalidate (no-cache); the ETag (the content's hash) and
//     Last-Modified make that a 304 when nothing changed.
//   - the same with ?v=<content hash>: the version the pages link to. Its
//     bytes never change, so it is cacheable for a year and immutable. A
//     request whose version is not the current one is redirected to the
//     current version's URL (uncacheable itself): the immutable header
//     never goes with bytes other than those the version names.
//
// Originals are served byte-exact, renditions as made; http.ServeContent
// answers HEAD, Range (206) and the conditional headers.

// immutable is the Cache-Control of a versioned image URL.
const immutable = "public, max-age=31536000, immutable"

func (p *GalleryPages) image(w http.ResponseWriter, r *http.Request) {
	key, err := pathKey(r)
	if err != nil {
		http.Error(w, "The key in the address is not properly escaped.", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	size := q.Get("size")
	var f gallery.Fetched
	if size == "" {
		f, err = p.gallery.Fetch(r.Context(), key)
	} else {
		f, err = p.gallery.FetchRendition(r.Context(), key, size)
	}
	if err != nil {
		code, msg := errorStatus(p.log, err)
		http.Error(w, msg, code)
		return
	}
	h := w.Header()
	h.Set("X-Cache", cacheLabel(f))
	if q.Has("v") && f.Hash != "" && q.Get("v") != f.Hash {
		h.Set("Cache-Control", "no-cache")
		http.Redirect(w, r, views.VersionedImageURL(f.Key, f.Hash, size), http.StatusFound)
		return
	}
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case q.Has("v") && f.Hash != "":
		h.Set("Cache-Control", immutable)
	default:
		// Unversioned, or a version this process could not check (the
		// row moved on while it read): revalidated.
		h.Set("Cache-Control", "no-cache")
	}
	if f.Hash != "" {
		h.Set("ETag", imageETag(f))
	}
	serveBytes(w, r, f.Modified, f.Data)
}

// imageETag is a strong validator of the bytes served: the original's
// content hash, and for a rendition its name (made from those bytes).
func imageETag(f gallery.Fetched) string {
	if f.Rendition == "" {
		return `"` + f.Hash + `"`
	}
	return `"` + f.Hash + "." + f.Rendition + `"`
}
