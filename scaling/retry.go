package scaling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
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

// failure is how a call failed, for trying it again.
type failure int

const (
	final     failure = iota // the same call would fail again (or it succeeded)
	refused                  // AWS refused it for now: busy, throttled, a server error
	transport                // the connection failed, before or during AWS's answer
)

// classify says how err failed.
func classify(err error) failure {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return final
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		var resp *smithyhttp.ResponseError
		if busyCodes[api.ErrorCode()] || errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
			return refused
		}
		return final
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return transport
	}
	return final // refused by the SDK itself (parameters, credentials): the same call fails again
}

// transportAttempts bounds the calls made for a connection that fails:
// a passing failure is over by then, and a wrong endpoint or an
// unreachable AWS should be said soon.
const transportAttempts = 3

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
		how := classify(err)
		switch {
		case how == final:
			return err
		case attempt >= b.attempts, how == transport && attempt >= transportAttempts:
			return fmt.Errorf("%s: still failing after %d tries: %w", what, attempt, err)
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
