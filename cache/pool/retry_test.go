package pool

import (
	"context"
	"testing"
)

// TestCancelledRetryKeepsEveryPendingInvalidation: a retry round that its
// context's end cuts short puts back every invalidation it took, not only
// the one it was trying.
func TestCancelledRetryKeepsEveryPendingInvalidation(t *testing.T) {
	tp := newTestPool(t, 1, "", 1<<20)
	for _, key := range []string{"a", "b", "c"} {
		tp.invalidateLater(key, 2, nil)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tp.retryInvalidations(ctx)
	if got := len(tp.retries.take()); got != 3 {
		t.Fatalf("%d invalidations pending after a cancelled round, want 3", got)
	}
}
