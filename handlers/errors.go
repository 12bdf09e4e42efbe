// Package handlers serves PicPool's HTTP interfaces: the gallery pages,
// the manager pages and the JSON test API. It declares the small
// interfaces it needs of storage and of the cache pool, and never imports
// package store: main adapts the real implementations to them.
package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Error is a failure the user may see: an HTTP status, a message written
// for people, and the form field it concerns ("" for the whole request).
type Error struct {
	Code    int
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

// errorf returns an *Error with a formatted message.
func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldError returns an *Error about one form field.
func fieldError(code int, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is what an ImageStore returns for a key it does not hold.
var ErrNotFound = errors.New("handlers: not found")

// ErrUnavailable is what a backend returns when it cannot be reached
// (a database that is down, a blob store that refuses): the user gets a
// 503 and is told to try again, and nothing is lost.
var ErrUnavailable = errors.New("handlers: backend unavailable")

// errorStatus maps any error to the status and the message a user may
// see: an *Error as it is, an unavailable backend as 503, anything else as
// a 500 whose details go only to the log.
func errorStatus(log *slog.Logger, err error) (int, string) {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message
	case errors.Is(err, ErrUnavailable):
		log.Warn("backend unavailable", "err", err)
		return http.StatusServiceUnavailable, "Storage is unavailable right now; nothing was changed. Please try again in a moment."
	}
	log.Error("internal error", "err", err)
	return http.StatusInternalServerError, "Something went wrong on our side; nothing was changed. Please try again."
}
