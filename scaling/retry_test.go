package scaling

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// apiErr is an AWS error as the SDK returns it: code, HTTP status, and
// the operation around them.
func apiErr(code string, status int) error {
	return &smithy.OperationError{ServiceID: "Auto Scaling", OperationName: "SetDesiredCapacity",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
		}}}
}

func TestClassify(t *testing.T) {
	netErr := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeInstances",
		Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("use of closed network connection")}}
	for _, tt := range []struct {
		name string
		err  error
		want failure
	}{
		{"success", nil, final},
		{"scaling activity", apiErr("ScalingActivityInProgress", 400), refused},
		{"contention", apiErr("ResourceContention", 500), refused},
		{"throttled", apiErr("Throttling", 400), refused},
		{"EC2 rate limit", apiErr("RequestLimitExceeded", 503), refused},
		{"any server error", apiErr("Mystery", 502), refused},
		{"validation", apiErr("ValidationError", 400), final},
		{"connection lost", netErr, transport},
		{"parameters", &smithy.OperationError{Err: smithy.InvalidParamsError{Context: "x"}}, final},
		{"cancelled", context.Canceled, final},
	} {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestBackoff checks how often and how long a call is made again: a
// refused call up to the attempts, with doubling waits; a failing
// connection three times; a final error once.
func TestBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := backoff{first: time.Second, attempts: 5}.withDefaults(nil)
		for _, tt := range []struct {
			name  string
			err   error
			calls int
			most  time.Duration // the waits add up to at most this
		}{
			{"refused", apiErr("Throttling", 400), 5, 1*time.Second + 2*time.Second + 4*time.Second + 8*time.Second},
			{"transport", &smithy.OperationError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, 3, 3 * time.Second},
			{"final", apiErr("ValidationError", 400), 1, 0},
		} {
			calls, start := 0, time.Now()
			err := b.do(t.Context(), "call", func(context.Context) error { calls++; return tt.err })
			if calls != tt.calls || !errors.Is(err, tt.err) && !errors.As(err, new(smithy.APIError)) {
				t.Errorf("%s: %d calls, err %v; want %d calls and its error", tt.name, calls, err, tt.calls)
			}
			if took := time.Since(start); took > tt.most || tt.calls > 1 && took < tt.most/2 {
				t.Errorf("%s: waited %v, want between %v and %v", tt.name, took, tt.most/2, tt.most)
			}
		}
		// Success after two refusals.
		calls := 0
		err := b.do(t.Context(), "call", func(context.Context) error {
			if calls++; calls < 3 {
				return apiErr("ScalingActivityInProgress", 400)
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Errorf("refused twice, then served: %v after %d calls", err, calls)
		}
	})
}
