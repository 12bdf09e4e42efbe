// Package awsfake is an in-process fake of the parts of Amazon CloudWatch,
// EC2 Auto Scaling and EC2 that an elastic pool of servers needs, speaking
// the wire protocols the real aws-sdk-go-v2 clients speak, so that tests
// drive the real SDK clients against it:
//
//   - CloudWatch in Smithy RPC v2 CBOR (what service/cloudwatch sends: its
//     client sets rpcv2.NewCBOR as the protocol, checked at v1.75.5), with
//     gzip-compressed request bodies accepted: PutMetricData, GetMetricData (MetricStat queries with Sum,
//     Average, Minimum, Maximum and SampleCount) and ListMetrics;
//   - Auto Scaling in the AWS query protocol with XML responses:
//     DescribeAutoScalingGroups, SetDesiredCapacity,
//     TerminateInstanceInAutoScalingGroup, UpdateAutoScalingGroup and
//     SetInstanceHealth;
//   - EC2 in the EC2 query protocol: DescribeInstances.
//
// Instances are real in one sense: for each instance it launches, the fake
// calls the Launcher the test gave it with the instance's private IP, a
// loopback address of its own (127.0.0.2, 127.0.0.3, …, never another
// range), and the test starts a real server there; terminating the instance
// stops it. The fake knows nothing of what runs on the instances. NewFleet
// is the one fixture of tests that need no particular server there: each
// instance serves a page that names it.
//
// It is slow and busy the way AWS is, when configured to be: instances
// boot in stages (pending, then in service, then their process serving,
// see Boot), a launch may fail or a process never start, CloudWatch
// datapoints become visible after a lag, a part of the requests are
// refused as busy (BusyRate), and a group spread over several zones
// rebalances them and replaces unhealthy instances, terminating instances
// the way the group would.
//
// Requests must be SigV4-signed for the right service (the fake reads the
// credential scope of the Authorization header; it does not check the
// signature). Parameters and fields the fake does not model are refused
// with an error rather than ignored, so that a test never passes on a
// request the fake silently misread. Where the fake simplifies AWS, the doc
// comment of the operation says how.
package awsfake

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Launcher starts what runs on a new instance, listening on privateIP, and
// returns the function that stops it when the instance terminates. An
// error fails the launch: the instance goes to terminated without ever
// being in service. ctx is cancelled when the fake is closed.
type Launcher func(ctx context.Context, instanceID, privateIP string) (stop func(), err error)

// Config configures NewServer.
type Config struct {
	// Launch starts each instance's server. Nil: instances run nothing,
	// and every launch succeeds.
	Launch Launcher
	// Now is CloudWatch's clock: it decides which timestamps
	// PutMetricData accepts (two weeks back to two hours ahead), how
	// GetMetricData rounds its start time, and what ListMetrics calls
	// recently active. Default time.Now.
	Now func() time.Time
	// Region is the region of ARNs and availability zones. Default
	// "us-east-1".
	Region string

	// Boot says how the n-th launch (from 1, in the fake's launch order)
	// goes. Nil: every launch is in service at once and its process
	// starts right after.
	Boot func(n int) Boot
	// MetricLag is how long after PutMetricData its datapoints become
	// visible to GetMetricData (CloudWatch's ingestion delay), plus up to
	// MetricLagJitter more, drawn per request. Default: none.
	MetricLag, MetricLagJitter time.Duration
	// BusyRate is the part of the requests, in [0, 1], refused with a busy
	// error (see busy.go). Default 0.
	BusyRate float64
	// ReplaceAfter is how long after an instance turns unhealthy the group
	// replaces it. Default: at once.
	ReplaceAfter time.Duration
	// Seed seeds the fake's random choices (busy errors, metric lags).
	Seed uint64
}

// Group describes an Auto Scaling group for AddGroup.
type Group struct {
	Name            string
	MinSize         int
	MaxSize         int
	DesiredCapacity int
	// Zones are the group's availability zones, as suffixes of the region
	// ("a", "b", "c"). Default: one, "a".
	Zones []string
	// NewInstancesProtected protects new instances from scale in once
	// they are in service (NewInstancesProtectedFromScaleIn).
	NewInstancesProtected bool
}

// Call is one request the fake served, for tests that check how a client
// talks to AWS.
type Call struct {
	Service   string // the SigV4 service name: "monitoring", "autoscaling" or "ec2"
	Operation string // e.g. "PutMetricData"
	Gzip      bool   // the body came gzip-compressed
	Error     string // the AWS error code returned, "" on success
	Time      time.Time
}

// Instance is a snapshot of one instance of the fake, for tests.
type Instance struct {
	ID             string
	PrivateIP      string
	Group          string
	Zone           string
	State          string // EC2 state: pending, running, shutting-down, terminated, stopped
	LifecycleState string // Auto Scaling lifecycle: Pending, InService, Terminating, Terminated
	HealthStatus   string // Auto Scaling health: Healthy or Unhealthy
	Protected      bool   // from scale in
	LaunchTime     time.Time
}

// Server is a running fake. Its URL serves all three services: point the
// SDK's BaseEndpoint at it (AWSConfig does).
type Server struct {
	// URL is the endpoint, "http://127.0.0.1:port".
	URL string

	cfg    Config
	http   *httptest.Server
	ctx    context.Context // cancelled by Close; the launchers' context
	cancel context.CancelFunc
	work   sync.WaitGroup // boot stages, terminations and replacements in flight
	close  sync.Once

	mu          sync.Mutex
	calls       []Call
	requestSeq  uint64
	metrics     map[string]*series // by metricKey
	groups      map[string]*group
	instances   map[string]*instance // by ID, terminated ones included
	launchOrder []*instance
	nextIP      int // the last octet tried last for a private IP
	idSeq       uint64
	activitySeq uint64
	closed      bool
	rand        *rand.Rand
}

// NewServer starts a fake on a free port of 127.0.0.1.
func NewServer(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		ctx:       ctx,
		cancel:    cancel,
		metrics:   map[string]*series{},
		groups:    map[string]*group{},
		instances: map[string]*instance{},
		nextIP:    1,
		rand:      rand.New(rand.NewPCG(cfg.Seed, 0xfa4e)),
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.http.URL
	return s
}

// AWSConfig returns an SDK configuration that sends every service to the
// fake, with static credentials and no retries (a fake that fails should
// fail at once).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       s.cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAFAKE", "fake-secret", ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// Close stops the HTTP server, terminates every instance (stopping their
// servers) and waits for launches and terminations in flight. Calls after
// the first do nothing.
func (s *Server) Close() { s.close.Do(s.shutdown) }

func (s *Server) shutdown() {
	s.http.Close()
	s.mu.Lock()
	s.closed = true
	for _, in := range s.launchOrder {
		if in.state != stateTerminated && in.state != stateShuttingDown {
			s.terminateLocked(in)
		}
	}
	s.mu.Unlock()
	s.cancel()
	s.work.Wait()
}

// Wait returns when nothing is in flight: no boot stage, termination,
// replacement or rebalance. After it, every instance is running (its
// process started, unless its Boot said it never starts) or stopped, or
// terminated.
func (s *Server) Wait() { s.work.Wait() }

// Calls returns the requests served so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Instances returns every instance launched so far, terminated ones
// included, in launch order.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, 0, len(s.launchOrder))
	for _, in := range s.launchOrder {
		out = append(out, in.snapshot())
	}
	return out
}

// apiError is an AWS error response: the code clients switch on, the
// message, and the HTTP status. shape is the CloudWatch error shape (its
// Smithy name), for the CBOR protocol's __type.
type apiError struct {
	status  int
	code    string
	message string
	shape   string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// errorf builds a client error (HTTP 400) with the given code.
func errorf(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// serveHTTP routes a request to its service by protocol: RPC v2 CBOR paths
// for CloudWatch, the query protocols' Version parameter for Auto Scaling
// and EC2, and checks that the signature's credential scope names the same
// service.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	service := signedService(r.Header.Get("Authorization"))
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/"):
		s.serveCloudWatch(w, r, service)
	case r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		s.serveQuery(w, r, service)
	default:
		http.Error(w, "awsfake: not an AWS request this fake serves: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// signedService returns the service of a SigV4 Authorization header's
// credential scope (Credential=AKID/date/region/service/aws4_request), or
// "" if the header is not SigV4.
func signedService(auth string) string {
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return ""
	}
	for part := range strings.SplitSeq(rest, ",") {
		cred, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential=")
		if !ok {
			continue
		}
		scope := strings.Split(cred, "/")
		if len(scope) == 5 && scope[4] == "aws4_request" {
			return scope[3]
		}
	}
	return ""
}

// checkSigned returns the error AWS returns for an unsigned request, or a
// request signed for another service.
func checkSigned(got, want string) *apiError {
	switch got {
	case want:
		return nil
	case "":
		return &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken", shape: "MissingAuthenticationToken",
			message: "Request is missing Authentication Token"}
	default:
		return &apiError{status: http.StatusForbidden, code: "InvalidSignatureException", shape: "InvalidSignatureException",
			message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", want)}
	}
}

// record appends a served call to the log.
func (s *Server) record(service, op string, gzip bool, err *apiError) {
	c := Call{Service: service, Operation: op, Gzip: gzip, Time: s.cfg.Now()}
	if err != nil {
		c.Error = err.code
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

// requestID returns a fresh request ID, in AWS's UUID shape.
func (s *Server) requestID() string {
	s.mu.Lock()
	s.requestSeq++
	n := s.requestSeq
	s.mu.Unlock()
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
}

// allocateIPLocked returns a free address in 127.0.0.2–127.0.0.254, going
// round the range so that a terminated instance's address is not reused at
// once (AWS may reuse addresses, but a fake that reuses them at once would
// hide bugs where a client confuses an old instance with a new one).
func (s *Server) allocateIPLocked() (string, error) {
	used := map[string]bool{}
	for _, in := range s.launchOrder {
		if in.state != stateTerminated {
			used[in.ip] = true
		}
	}
	for range 253 {
		s.nextIP++
		if s.nextIP > 254 {
			s.nextIP = 2
		}
		ip := net.IPv4(127, 0, 0, byte(s.nextIP)).String()
		if !used[ip] {
			return ip, nil
		}
	}
	return "", errors.New("no free address left in 127.0.0.2-127.0.0.254")
}
