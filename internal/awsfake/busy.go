package awsfake

import "net/http"

// Busy errors: AWS refuses some requests for reasons that pass (another
// scaling activity under way, a concurrent update, a rate limit), and its
// clients are expected to try again. Config.BusyRate refuses that part of
// the requests, each with an error the real operation returns; the
// request changes nothing. The SDK's standard retryer retries
// ResourceContention (a 500), Throttling and RequestLimitExceeded, but
// not ScalingActivityInProgress; the fake's AWSConfig retries nothing.

// busyWrites are the Auto Scaling operations documented to fail with
// ScalingActivityInProgress.
var busyWrites = map[string]bool{
	"SetDesiredCapacity": true, "TerminateInstanceInAutoScalingGroup": true, "UpdateAutoScalingGroup": true,
}

// busy returns the error that refuses this request, or nil to serve it.
func (s *Server) busy(service, op string) *apiError {
	if s.cfg.BusyRate <= 0 {
		return nil
	}
	s.mu.Lock()
	hit, pick := s.rand.Float64() < s.cfg.BusyRate, s.rand.IntN(2)
	s.mu.Unlock()
	if !hit {
		return nil
	}
	throttled := &apiError{status: http.StatusBadRequest, code: "Throttling", shape: "Throttling", message: "Rate exceeded"}
	switch {
	case service == "ec2":
		return &apiError{status: http.StatusServiceUnavailable, code: "RequestLimitExceeded", message: "Request limit exceeded."}
	case service == "monitoring":
		return throttled
	case busyWrites[op] && pick == 0:
		return errorf("ScalingActivityInProgress", "Scaling activities are in progress and prevent this operation.")
	case pick == 1 || busyWrites[op]:
		return &apiError{status: http.StatusInternalServerError, code: "ResourceContention",
			message: "You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer)."}
	}
	return throttled
}
