package gallery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/store"
)

// TestBackendFailuresSayWhatIsKnown: storage's failures reach users as
// what they may be told, through the one rule (BackendError, then
// Describe); a failed commit is not "nothing was changed".
func TestBackendFailuresSayWhatIsKnown(t *testing.T) {
	down := errors.New("dial tcp 127.0.0.1:5432: connection refused")
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name     string
		err      error
		is       error // the classified error must be this
		wantCode gallery.Code
		wantMsg  string
	}{
		{"not found", fmt.Errorf("store: image %q: %w", "k", store.ErrNotFound), gallery.ErrNotFound, 0, ""},
		{"canceled", fmt.Errorf("store: %w", context.Canceled), context.Canceled, 0, ""},
		{"down", fmt.Errorf("store: load settings: %w", down), gallery.ErrUnavailable, gallery.Unavailable,
			"Storage is unavailable right now; nothing was changed. Please try again in a moment."},
		{"invalid key", fmt.Errorf("store: %w", store.ErrInvalidKey), gallery.ErrInvalid, gallery.Invalid, "The storage refused this key."},
		{"commit failed", fmt.Errorf("store: put image: %w", fmt.Errorf("commit: %w: %w", down, store.ErrOutcomeUnknown)), gallery.ErrOutcomeUnknown, gallery.Unavailable,
			"Storage failed while saving, so the change may or may not have been made. Please check before trying again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gallery.BackendError(tt.err)
			if !errors.Is(got, tt.is) {
				t.Errorf("BackendError = %v, want it to be %v", got, tt.is)
			}
			if tt.wantCode == 0 {
				return
			}
			if code, msg := gallery.Describe(log, got); code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("Describe = %d %q, want %d %q", code, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
	if gallery.BackendError(nil) != nil {
		t.Error("BackendError(nil) is not nil")
	}
}
