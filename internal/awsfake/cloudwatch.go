package awsfake

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CloudWatch, in Smithy RPC v2 CBOR: POST
// /service/GraniteServiceVersion20100801/operation/{Operation}, CBOR maps
// whose keys are the member names of the Smithy model, timestamps as tag 1
// epoch seconds. CloudWatch is "query compatible": errors also carry their
// query-protocol code in the X-Amzn-Query-Error header.

const cloudWatchServicePath = "/service/GraniteServiceVersion20100801/operation/"

var (
	// cborDec refuses fields the fake does not model, so that a request
	// it would misread fails loudly instead.
	cborDec = mustDecMode(cbor.DecOptions{ExtraReturnErrors: cbor.ExtraDecErrorUnknownField})
	// cborEnc writes timestamps as tag 1 epoch seconds, as the protocol
	// requires (integers when whole, floats otherwise).
	cborEnc = mustEncMode(cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired})
)

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(err) // constant options: a bug, caught by any test
	}
	return m
}

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

// cloudWatchOps are the CloudWatch operations the fake serves.
func (s *Server) cloudWatchOps() map[string]func(body []byte) (any, *apiError) {
	return map[string]func(body []byte) (any, *apiError){
		"PutMetricData": s.putMetricData,
		"GetMetricData": s.getMetricData,
		"ListMetrics":   s.listMetrics,
	}
}

// serveCloudWatch decodes an RPC v2 CBOR request and answers it.
func (s *Server) serveCloudWatch(w http.ResponseWriter, r *http.Request, signed string) {
	op, _ := strings.CutPrefix(r.URL.Path, cloudWatchServicePath)
	gz := r.Header.Get("Content-Encoding") == "gzip"
	var result any
	apiErr := checkSigned(signed, "monitoring")
	if apiErr == nil && (r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, cloudWatchServicePath)) {
		apiErr = &apiError{status: http.StatusNotFound, code: "UnknownOperationException", shape: "UnknownOperationException",
			message: "no such operation: " + r.Method + " " + r.URL.Path}
	}
	if apiErr == nil && r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		apiErr = errorf("InvalidParameterValue", "the Smithy-Protocol header must be rpc-v2-cbor, got %q", r.Header.Get("Smithy-Protocol"))
	}
	handler, known := s.cloudWatchOps()[op]
	if apiErr == nil && !known {
		apiErr = &apiError{status: http.StatusNotFound, code: "UnknownOperationException", shape: "UnknownOperationException",
			message: "awsfake does not serve the CloudWatch operation " + op}
	}
	if apiErr == nil {
		apiErr = s.busy("monitoring", op)
	}
	if apiErr == nil {
		var body []byte
		body, apiErr = readBody(r, gz)
		if apiErr == nil {
			result, apiErr = handler(body)
		}
	}
	s.record("monitoring", op, gz, apiErr)

	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	if apiErr != nil {
		shape := apiErr.shape
		if shape == "" {
			shape = cloudWatchErrorShapes[apiErr.code]
		}
		if shape == "" {
			shape = apiErr.code
		}
		w.Header().Set("X-Amzn-Query-Error", apiErr.code+";"+fault(apiErr.status))
		w.WriteHeader(apiErr.status)
		b, _ := cborEnc.Marshal(map[string]string{"__type": "com.amazonaws.cloudwatch#" + shape, "message": apiErr.message})
		w.Write(b)
		return
	}
	if result == nil {
		result = struct{}{}
	}
	b, err := cborEnc.Marshal(result)
	if err != nil {
		http.Error(w, "awsfake: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(b)
}

// cloudWatchErrorShapes maps query error codes to their Smithy shapes.
var cloudWatchErrorShapes = map[string]string{
	"InvalidParameterValue":       "InvalidParameterValueException",
	"InvalidParameterCombination": "InvalidParameterCombinationException",
	"MissingParameter":            "MissingRequiredParameterException",
	"InvalidNextToken":            "InvalidNextToken",
	"InternalServiceError":        "InternalServiceFault",
}

// readBody reads a request body, gunzipping it when it came compressed,
// up to CloudWatch's 1 MB limit.
func readBody(r *http.Request, gz bool) ([]byte, *apiError) {
	var rd io.Reader = r.Body
	if gz {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, errorf("InvalidParameterValue", "Content-Encoding gzip, but the body is not gzip: %v", err)
		}
		defer zr.Close()
		rd = zr
	}
	body, err := io.ReadAll(io.LimitReader(rd, 1<<20+1))
	switch {
	case err != nil:
		return nil, errorf("InvalidParameterValue", "read body: %v", err)
	case len(body) > 1<<20:
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge", shape: "InvalidParameterValueException",
			message: "Request size exceeded 1048576 bytes"}
	}
	return body, nil
}

// decode decodes a request body into v, refusing unmodelled fields.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := cborDec.Unmarshal(body, v); err != nil {
		var unknown *cbor.UnknownFieldError
		if errors.As(err, &unknown) {
			return errorf("InvalidParameterValue", "awsfake does not model a field of this request: %v", err)
		}
		return errorf("SerializationException", "malformed CBOR: %v", err)
	}
	return nil
}

// The request and response shapes, with the Smithy model's member names.

type cwDimension struct {
	Name  *string
	Value *string
}

type cwStatisticSet struct {
	SampleCount *float64
	Sum         *float64
	Minimum     *float64
	Maximum     *float64
}

type cwMetricDatum struct {
	MetricName        *string
	Dimensions        []cwDimension
	Timestamp         *time.Time
	Value             *float64
	StatisticValues   *cwStatisticSet
	Values            []float64
	Counts            []float64
	Unit              *string
	StorageResolution *int32
}

type cwPutMetricDataInput struct {
	Namespace              *string
	MetricData             []cwMetricDatum
	StrictEntityValidation *bool
}

type cwMetric struct {
	Namespace  *string       `cbor:",omitempty"`
	MetricName *string       `cbor:",omitempty"`
	Dimensions []cwDimension `cbor:",omitempty"`
}

type cwMetricStat struct {
	Metric *cwMetric
	Period *int32
	Stat   *string
	Unit   *string
}

type cwMetricDataQuery struct {
	Id         *string //nolint:revive // the model's member name
	MetricStat *cwMetricStat
	Expression *string
	Label      *string
	ReturnData *bool
	Period     *int32
	AccountId  *string //nolint:revive // the model's member name
}

type cwGetMetricDataInput struct {
	MetricDataQueries []cwMetricDataQuery
	StartTime         *time.Time
	EndTime           *time.Time
	NextToken         *string
	ScanBy            *string
	MaxDatapoints     *int32
	LabelOptions      *struct{ Timezone *string }
}

type cwMetricDataResult struct {
	Id         string //nolint:revive // the model's member name
	Label      string
	Timestamps []time.Time
	Values     []float64
	StatusCode string
}

type cwGetMetricDataOutput struct {
	MetricDataResults []cwMetricDataResult
	NextToken         *string `cbor:",omitempty"`
}

type cwListMetricsInput struct {
	Namespace             *string
	MetricName            *string
	Dimensions            []cwDimension
	NextToken             *string
	RecentlyActive        *string
	IncludeLinkedAccounts *bool
	OwningAccount         *string
}

type cwListMetricsOutput struct {
	Metrics   []cwMetric
	NextToken *string `cbor:",omitempty"`
}
