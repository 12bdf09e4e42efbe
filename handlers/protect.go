package handlers

import "net/http"

// Protection is what guards a whole server, the gallery or the manager,
// before any of its routes. The zero value adds only the security headers.
type Protection struct{}

// Wrap returns h behind p's guards.
func (p Protection) Wrap(h http.Handler) http.Handler {
	return SecurityHeaders(h)
}
