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
}

// Wrap returns h behind p's guards. The security headers come first, so
// that refusals carry them too.
func (p Protection) Wrap(h http.Handler) http.Handler {
	if p.LoopbackOnly {
		h = loopbackOnly(h)
	}
	return SecurityHeaders(h)
}
