package gallery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Code is the kind of a failure a user may see. The domain says what went
// wrong; package handlers alone maps each Code to an HTTP status. The zero
// Code is no failure.
type Code int

// The kinds of failure.
const (
	Internal    Code = iota + 1 // a bug or an unclassified failure: the details go to the log only
	Invalid                     // the request is wrong (a key, a parameter): it names the field
	NotFound                    // no such image
	Conflict                    // the request does not fit the pool's state (automatic mode, a follower)
	TooLarge                    // too many bytes or pixels
	Unsupported                 // not an image of an accepted format, or a damaged one
	Unavailable                 // a backend does not answer; the message says what changed
	Timeout                     // the pool's owner is still working on it
	Upstream                    // the pool's owner gave an answer this process cannot read
)

// Error is a failure the user may see: its kind, a message written for
// people, and the form field it concerns ("" for the whole request).
type Error struct {
	Code    Code
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error about one form field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// FieldErrors is every refusal of one request, each about one field (named
// as the test API's parameters). Its message joins them all.
type FieldErrors []*Error

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, f := range e {
		msgs[i] = f.Message
	}
	return strings.Join(msgs, " ")
}

// The failures that backends report, wrapped, for this package to
// describe (see Describe).
var (
	// ErrNotFound: no image under the key.
	ErrNotFound = errors.New("gallery: not found")
	// ErrInvalid: the backend refuses the input (a key the database cannot
	// hold).
	ErrInvalid = errors.New("gallery: refused by storage")
	// ErrUnavailable: the backend does not answer; nothing was changed.
	ErrUnavailable = errors.New("gallery: backend unavailable")
	// ErrOutcomeUnknown: the backend failed while committing a change, so
	// the change may or may not have been made.
	ErrOutcomeUnknown = errors.New("gallery: the change may or may not have been made")
)

// Describe says what a failure means to the user who asked: its kind and
// a message for people. An *Error and FieldErrors say it themselves;
// backends' failures are described here, once, for every page and API;
// anything else is Internal, its details logged and not shown.
func Describe(log *slog.Logger, err error) (Code, string) {
	var e *Error
	var fe FieldErrors
	switch {
	case errors.As(err, &fe):
		return Invalid, fe.Error()
	case errors.As(err, &e):
		return e.Code, e.Message
	case errors.Is(err, ErrOutcomeUnknown):
		log.Warn("backend failed while committing", "err", err)
		return Unavailable, "Storage failed while saving, so the change may or may not have been made. Please check before trying again."
	case errors.Is(err, ErrInvalid):
		return Invalid, "The storage refused this key."
	case errors.Is(err, ErrUnavailable):
		log.Warn("backend unavailable", "err", err)
		return Unavailable, "Storage is unavailable right now; nothing was changed. Please try again in a moment."
	}
	log.Error("internal error", "err", err)
	return Internal, "Something went wrong on our side; nothing was changed. Please try again."
}

// BackendError classifies a failure of a backend the domain does not call
// itself (the metrics backend the manager's charts read): see
// storageError.
func BackendError(err error) error { return storageError(err) }

// storageError classifies a failure of a backend that the domain calls: a
// missing image, a refused input and an unknown outcome as they are, and
// anything else (a database or blob store that does not answer) as
// unavailable. One rule for every backend, so that no backend's failure
// reaches a user as a 500.
func storageError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid), errors.Is(err, ErrOutcomeUnknown),
		errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
