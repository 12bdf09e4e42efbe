// Package handlers is PicPool's HTTP side: the gallery's and the manager's
// servers (their routers, pages and the JSON test API), sessions and
// access rules, and the one mapping of the domain's failures to HTTP
// statuses. The domain (package gallery) decides; handlers read requests
// and write answers.
package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/picpool/picpool/gallery"
)

// statuses maps each kind of failure to its HTTP status: the one place
// where the domain's words become HTTP's.
var statuses = map[gallery.Code]int{
	gallery.Internal:    http.StatusInternalServerError,
	gallery.Invalid:     http.StatusBadRequest,
	gallery.NotFound:    http.StatusNotFound,
	gallery.Conflict:    http.StatusConflict,
	gallery.TooLarge:    http.StatusRequestEntityTooLarge,
	gallery.Unsupported: http.StatusUnsupportedMediaType,
	gallery.Unavailable: http.StatusServiceUnavailable,
	gallery.Timeout:     http.StatusGatewayTimeout,
	gallery.Upstream:    http.StatusBadGateway,
}

// httpError is a refusal of HTTP's own, not the domain's (a login refused,
// a body that arrives too slowly): its status and a message for people.
type httpError struct {
	Status  int
	Message string
}

func (e *httpError) Error() string { return e.Message }

func httpErrorf(status int, format string, args ...any) *httpError {
	return &httpError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// errorStatus is the status and the message a user sees for err: an
// httpError's own, else the domain's description (see gallery.Describe)
// in HTTP's terms.
func errorStatus(log *slog.Logger, err error) (int, string) {
	if he, ok := errors.AsType[*httpError](err); ok {
		return he.Status, he.Message
	}
	code, msg := gallery.Describe(log, err)
	return statuses[code], msg
}
