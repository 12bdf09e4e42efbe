package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/store"
)

// TestStoreErrorSaysWhatItKnows: storage failures reach handlers as what
// users may be told; a failed commit is not "nothing was changed".
func TestStoreErrorSaysWhatItKnows(t *testing.T) {
	down := errors.New("dial tcp 127.0.0.1:5432: connection refused")
	tests := []struct {
		name     string
		err      error
		is       error // the error must be this, or
		wantCode int   // an *handlers.Error with this code and message
		wantMsg  string
	}{
		{"none", nil, nil, 0, ""},
		{"not found", fmt.Errorf("store: image %q: %w", "k", store.ErrNotFound), handlers.ErrNotFound, 0, ""},
		{"canceled", fmt.Errorf("store: %w", context.Canceled), context.Canceled, 0, ""},
		{"down", fmt.Errorf("store: load settings: %w", down), handlers.ErrUnavailable, 0, ""},
		{"invalid key", fmt.Errorf("store: %w", store.ErrInvalidKey), nil, 400, "The storage refused this key."},
		{"commit failed", fmt.Errorf("store: put image: %w", fmt.Errorf("commit: %w: %w", down, store.ErrOutcomeUnknown)), nil, 503,
			"Storage failed while saving, so the change may or may not have been made. Please check before trying again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storeError(tt.err)
			if tt.wantCode == 0 {
				if (tt.is == nil) != (got == nil) || (tt.is != nil && !errors.Is(got, tt.is)) {
					t.Errorf("storeError = %v, want %v", got, tt.is)
				}
				return
			}
			var e *handlers.Error
			if !errors.As(got, &e) || e.Code != tt.wantCode || e.Message != tt.wantMsg {
				t.Errorf("storeError = %#v, want %d %q", got, tt.wantCode, tt.wantMsg)
			}
		})
	}
}
