package handlers

import "net/http"

// Protection is what guards a whole server, the gallery or the manager,
// before any of its routes. The zero value adds only the security headers.
type Protection struct {
	// LoopbackOnly refuses requests not addressed to localhost, 127.0.0.1
	// or [::1], or sent from another origin (see loopbackOnly). Set it
	// when the server listens on loopback and its test API is open
	// because of that.
	LoopbackOnly bool
	// Uploads bounds how many uploads are read at once; nil: no bound.
	Uploads *UploadSlots
	// Bodies bounds how slowly request bodies may arrive.
	Bodies BodyPace
}

// Wrap returns h behind p's guards, outermost first: the security
// headers (so that refusals carry them too), the loopback check, a slot
// for an upload, then the pace of the body, whose clock starts only once
// the upload has its slot.
func (p Protection) Wrap(h http.Handler) http.Handler {
	h = p.Bodies.pace(h)
	if p.Uploads != nil {
		h = p.Uploads.limit(h)
	}
	if p.LoopbackOnly {
		h = loopbackOnly(h)
	}
	return SecurityHeaders(h)
}
