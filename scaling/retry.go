package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// AWS refuses some calls for reasons that pass: another scaling activity
// under way (ScalingActivityInProgress, which the SDK does not retry), a
// concurrent update (ResourceContention), a rate limit, a server error, a
// connection the SDK lost mid-response. The adapters here try such calls
// again with backoff, whatever retryer the SDK was given, until they
// succeed, fail for good, or their context ends.

// busyCodes are the AWS error codes of a call worth making again.
var busyCodes = map[string]bool{
	"ScalingActivityInProgress": true, "ResourceContention": true, "Throttling": true, "ThrottlingException": true,
	"RequestLimitExceeded": true, "RequestThrottled": true, "TooManyRequestsException": true,
	"ServiceUnavailable": true, "InternalFailure": true, "InternalError": true,
}

// busy reports whether err is one that passes: a busy code, a server
// error (HTTP 5xx), or no answer from AWS at all (the connection failed).
func busy(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		var resp *smithyhttp.ResponseError
		return busyCodes[api.ErrorCode()] || errors.As(err, &resp) && resp.HTTPStatusCode() >= 500
	}
	var invalid smithy.InvalidParamsError
	if errors.As(err, &invalid) {
		return false // refused by the SDK itself: the same call fails again
	}
	var op *smithy.OperationError
	return errors.As(err, &op) // failed before AWS answered, or while reading its answer
}

// backoff is how calls are tried again.
type backoff struct {
	first, max time.Duration // the first wait, doubled each time up to max
	attempts   int           // calls in all, the first included
	log        *slog.Logger
}

// Defaults of backoff.
const (
	defaultBackoff  = time.Second
	defaultAttempts = 8
)

func (b backoff) withDefaults(log *slog.Logger) backoff {
	if b.first <= 0 {
		b.first = defaultBackoff
	}
	if b.max <= 0 {
		b.max = 20 * b.first
	}
	if b.attempts <= 0 {
		b.attempts = defaultAttempts
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b.log = log
	return b
}

// do calls fn until it succeeds or fails with an error that does not
// pass, waiting between calls with exponential backoff and jitter; it
// returns fn's last error.
func (b backoff) do(ctx context.Context, what string, fn func(context.Context) error) error {
	wait := b.first
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if !busy(err) {
			return err
		}
		if attempt >= b.attempts {
			return fmt.Errorf("%s: still refused after %d tries: %w", what, attempt, err)
		}
		// Full jitter: concurrent callers refused together spread out.
		d := wait/2 + rand.N(wait/2+1)
		b.log.Debug("AWS call refused for now; trying again", "call", what, "attempt", attempt, "in", d, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (after: %w)", what, ctx.Err(), err)
		case <-time.After(d):
		}
		wait = min(2*wait, b.max)
	}
}
