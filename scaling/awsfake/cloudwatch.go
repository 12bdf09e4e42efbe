package awsfake

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
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

// series is every datapoint stored for one metric (namespace, name and
// full set of dimensions: CloudWatch's identity of a metric).
type series struct {
	namespace, name string
	dims            []dimension // sorted by name
	points          []datapoint
	lastPut         time.Time // when data last arrived, by the fake's clock
}

type dimension struct{ name, value string }

// datapoint is one stored datum, already a statistic set: a single value
// v is {1, v, v, v}. t is the datum's timestamp truncated to its storage
// resolution: to the second for high-resolution metrics, to the minute
// otherwise, which is why a standard-resolution datum never lands in a
// sub-minute bucket other than its minute's first.
type datapoint struct {
	t                     time.Time
	unit                  string
	count, sum, min, maxv float64
}

func metricKey(namespace, name string, dims []dimension) string {
	var b strings.Builder
	b.WriteString(namespace + "\x00" + name)
	for _, d := range dims {
		b.WriteString("\x00" + d.name + "=" + d.value)
	}
	return b.String()
}

var validUnits = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None"}

// putMetricData stores datapoints. It checks what CloudWatch checks:
// namespace (not AWS/), 1–1000 data, one of Value, Values or
// StatisticValues, finite numbers, up to 30 distinct dimensions,
// timestamps from two weeks back to two hours ahead, storage resolution 1
// or 60, known units. Entity data is not modelled.
func (s *Server) putMetricData(body []byte) (any, *apiError) {
	var in cwPutMetricDataInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ns := deref(in.Namespace)
	switch {
	case ns == "":
		return nil, errorf("MissingParameter", "The parameter Namespace is required.")
	case len(ns) > 255:
		return nil, errorf("InvalidParameterValue", "The parameter Namespace must be at most 255 characters.")
	case strings.HasPrefix(ns, "AWS/"):
		return nil, errorf("InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.")
	case len(in.MetricData) == 0:
		return nil, errorf("MissingParameter", "The parameter MetricData is required.")
	case len(in.MetricData) > 1000:
		return nil, errorf("InvalidParameterValue", "The collection MetricData must not have a size greater than 1000.")
	}
	now := s.cfg.Now()
	type stored struct {
		key string
		s   series
		p   datapoint
	}
	var batch []stored
	for i, d := range in.MetricData {
		field := fmt.Sprintf("MetricData.member.%d", i+1)
		p, dims, err := checkDatum(field, d, now)
		if err != nil {
			return nil, err
		}
		name := deref(d.MetricName)
		batch = append(batch, stored{key: metricKey(ns, name, dims), s: series{namespace: ns, name: name, dims: dims}, p: p})
	}
	// All or nothing, as in CloudWatch: store only once every datum passed.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range batch {
		sr, ok := s.metrics[b.key]
		if !ok {
			sr = &series{namespace: b.s.namespace, name: b.s.name, dims: b.s.dims}
			s.metrics[b.key] = sr
		}
		sr.points = append(sr.points, b.p)
		sr.lastPut = now
	}
	return nil, nil
}

// checkDatum validates one datum and returns it as a stored datapoint.
func checkDatum(field string, d cwMetricDatum, now time.Time) (datapoint, []dimension, *apiError) {
	name := deref(d.MetricName)
	if name == "" || len(name) > 255 {
		return datapoint{}, nil, errorf("InvalidParameterValue", "The parameter %s.MetricName must be 1 to 255 characters.", field)
	}
	if len(d.Dimensions) > 30 {
		return datapoint{}, nil, errorf("InvalidParameterValue", "The collection %s.Dimensions must not have a size greater than 30.", field)
	}
	var dims []dimension
	for j, dim := range d.Dimensions {
		n, v := deref(dim.Name), deref(dim.Value)
		if n == "" || len(n) > 255 || v == "" || len(v) > 1024 {
			return datapoint{}, nil, errorf("InvalidParameterValue",
				"The parameter %s.Dimensions.member.%d must have a name of 1 to 255 characters and a value of 1 to 1024.", field, j+1)
		}
		if slices.ContainsFunc(dims, func(x dimension) bool { return x.name == n }) {
			return datapoint{}, nil, errorf("InvalidParameterValue", "No metric may have duplicate dimensions: %s has %q twice.", field, n)
		}
		dims = append(dims, dimension{n, v})
	}
	slices.SortFunc(dims, func(a, b dimension) int { return strings.Compare(a.name, b.name) })

	unit := "None"
	if d.Unit != nil {
		unit = *d.Unit
		if !slices.Contains(validUnits, unit) {
			return datapoint{}, nil, errorf("InvalidParameterValue", "The value %s for parameter %s.Unit is invalid.", unit, field)
		}
	}
	res := int32(60)
	if d.StorageResolution != nil {
		res = *d.StorageResolution
		if res != 1 && res != 60 {
			return datapoint{}, nil, errorf("InvalidParameterValue",
				"The value %d for parameter %s.StorageResolution is invalid: it must be 1 or 60.", res, field)
		}
	}
	t := now
	if d.Timestamp != nil {
		t = *d.Timestamp
	}
	if t.Before(now.Add(-14*24*time.Hour)) || t.After(now.Add(2*time.Hour)) {
		return datapoint{}, nil, errorf("InvalidParameterValue",
			"The parameter %s.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.", field)
	}
	p := datapoint{t: t.Truncate(time.Duration(res) * time.Second), unit: unit}

	given := 0
	for _, set := range []bool{d.Value != nil, d.StatisticValues != nil, d.Values != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return datapoint{}, nil, errorf("InvalidParameterCombination",
			"The parameters %s.Value, %[1]s.Values and %[1]s.StatisticValues are mutually exclusive, and one is required.", field)
	}
	switch {
	case d.Value != nil:
		v := *d.Value
		if !finite(v) {
			return datapoint{}, nil, errorf("InvalidParameterValue", "The value %v for parameter %s.Value is invalid.", v, field)
		}
		p.count, p.sum, p.min, p.maxv = 1, v, v, v
	case d.StatisticValues != nil:
		sv := d.StatisticValues
		if sv.SampleCount == nil || sv.Sum == nil || sv.Minimum == nil || sv.Maximum == nil {
			return datapoint{}, nil, errorf("MissingParameter", "The parameter %s.StatisticValues needs SampleCount, Sum, Minimum and Maximum.", field)
		}
		p.count, p.sum, p.min, p.maxv = *sv.SampleCount, *sv.Sum, *sv.Minimum, *sv.Maximum
		if !finite(p.count) || !finite(p.sum) || !finite(p.min) || !finite(p.maxv) || p.count <= 0 || p.min > p.maxv {
			return datapoint{}, nil, errorf("InvalidParameterValue",
				"The parameter %s.StatisticValues is invalid: finite values, SampleCount > 0 and Minimum <= Maximum are required.", field)
		}
	default:
		if len(d.Values) > 150 || d.Counts != nil && len(d.Counts) != len(d.Values) {
			return datapoint{}, nil, errorf("InvalidParameterValue",
				"The parameter %s.Values must have at most 150 values, and Counts as many as Values.", field)
		}
		p.min, p.maxv = math.Inf(1), math.Inf(-1)
		for k, v := range d.Values {
			c := 1.0
			if d.Counts != nil {
				c = d.Counts[k]
			}
			if !finite(v) || !finite(c) || c < 0 {
				return datapoint{}, nil, errorf("InvalidParameterValue", "The parameter %s.Values holds an invalid value or count.", field)
			}
			p.count += c
			p.sum += v * c
			p.min, p.maxv = math.Min(p.min, v), math.Max(p.maxv, v)
		}
		if p.count == 0 {
			return datapoint{}, nil, errorf("InvalidParameterValue", "The parameter %s.Values holds no value.", field)
		}
	}
	return p, dims, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

var (
	queryIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]{0,254}$`)
	statistics     = []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount"}
)

// getMetricData answers MetricStat queries, aggregating per period as
// CloudWatch does:
//
//   - StartTime is inclusive, EndTime exclusive;
//   - StartTime is rounded down: for periods of 1, 5, 10, 20 or 30 s to a
//     multiple of the period; otherwise to the minute (start less than 15
//     days ago), to 5 minutes (15 to 63 days) or to the hour (older);
//   - periods are consecutive from the rounded start, each aggregating the
//     datapoints whose (resolution-truncated) timestamps fall in it; only
//     periods with data are returned, stamped with their start;
//   - a period must be 1, 5, 10, 20, 30 or a multiple of 60; when the start
//     is more than 3 hours (15 days, 63 days) ago and the period is not a
//     multiple of 60 (300, 3600), no datapoints come back, as documented;
//   - ScanBy TimestampDescending (the default) returns newest first;
//   - at most MaxDatapoints (default 100,800) datapoints per response,
//     counted over all queries in order, with a NextToken for the rest and
//     StatusCode PartialData for the queries cut short.
//
// Metric math expressions and statistics other than Sum, Average,
// Minimum, Maximum and SampleCount are refused. Unlike CloudWatch the fake
// does not keep high-resolution data for 3 hours only: it keeps every
// datapoint, and the period rules above decide what is returned.
func (s *Server) getMetricData(body []byte) (any, *apiError) {
	var in cwGetMetricDataInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, errorf("MissingParameter", "The parameters StartTime and EndTime are required.")
	}
	start, end := *in.StartTime, *in.EndTime
	if !start.Before(end) {
		return nil, errorf("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
	}
	n := len(in.MetricDataQueries)
	if n == 0 || n > 500 {
		return nil, errorf("InvalidParameterValue", "The collection MetricDataQueries must have 1 to 500 members, not %d.", n)
	}
	descending := true
	switch deref(in.ScanBy) {
	case "", "TimestampDescending":
	case "TimestampAscending":
		descending = false
	default:
		return nil, errorf("InvalidParameterValue", "The value %s for parameter ScanBy is invalid.", *in.ScanBy)
	}
	maxPoints := 100800
	if in.MaxDatapoints != nil {
		maxPoints = int(*in.MaxDatapoints)
		if maxPoints < 1 {
			return nil, errorf("InvalidParameterValue", "The parameter MaxDatapoints must be positive.")
		}
	}
	if in.LabelOptions != nil {
		return nil, errorf("InvalidParameterValue", "awsfake does not model LabelOptions")
	}
	offset := 0
	if in.NextToken != nil {
		var ok bool
		if offset, ok = parsePageToken(*in.NextToken); !ok {
			return nil, errorf("InvalidNextToken", "The service returned an invalid next token.")
		}
	}

	seen := map[string]bool{}
	for i, q := range in.MetricDataQueries {
		if err := checkQuery(i, q, seen); err != nil {
			return nil, err
		}
	}

	now := s.cfg.Now()
	var all []cwMetricDataResult
	s.mu.Lock()
	for _, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue // computed for expressions only, which the fake has none of
		}
		all = append(all, s.runQueryLocked(q, start, end, now, descending))
	}
	s.mu.Unlock()

	// Page over the datapoints of all results, in order.
	out := cwGetMetricDataOutput{MetricDataResults: []cwMetricDataResult{}}
	skip, room := offset, maxPoints
	total := 0
	for _, r := range all {
		total += len(r.Timestamps)
		from := min(skip, len(r.Timestamps))
		skip -= from
		to := from + min(room, len(r.Timestamps)-from)
		room -= to - from
		page := cwMetricDataResult{Id: r.Id, Label: r.Label, Timestamps: r.Timestamps[from:to], Values: r.Values[from:to], StatusCode: "Complete"}
		if to < len(r.Timestamps) {
			page.StatusCode = "PartialData"
		}
		out.MetricDataResults = append(out.MetricDataResults, page)
	}
	if next := offset + maxPoints; next < total {
		tok := pageToken(next)
		out.NextToken = &tok
	}
	return out, nil
}

// checkQuery validates the i-th query of GetMetricData.
func checkQuery(i int, q cwMetricDataQuery, seen map[string]bool) *apiError {
	field := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
	id := deref(q.Id)
	switch {
	case !queryIDPattern.MatchString(id):
		return errorf("InvalidParameterValue", "The value %q for parameter %s.Id is invalid: it must start with a lowercase letter, followed by letters, digits and underscores.", id, field)
	case seen[id]:
		return errorf("InvalidParameterValue", "The value %s for parameter MetricDataQueries.Id is not unique.", id)
	case q.Expression != nil:
		return errorf("InvalidParameterValue", "awsfake does not evaluate metric math expressions (%s.Expression)", field)
	case q.AccountId != nil:
		return errorf("InvalidParameterValue", "awsfake does not model cross-account queries (%s.AccountId)", field)
	case q.MetricStat == nil:
		return errorf("InvalidParameterCombination", "%s must have either MetricStat or Expression.", field)
	}
	seen[id] = true
	ms := q.MetricStat
	if ms.Metric == nil || deref(ms.Metric.Namespace) == "" || deref(ms.Metric.MetricName) == "" {
		return errorf("MissingParameter", "The parameter %s.MetricStat.Metric needs a Namespace and a MetricName.", field)
	}
	period := int(deref(ms.Period))
	if !validPeriod(period) {
		return errorf("InvalidParameterValue", "The parameter %s.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60; got %d.", field, period)
	}
	if st := deref(ms.Stat); !slices.Contains(statistics, st) {
		return errorf("InvalidParameterValue", "The statistic %q of %s is not one awsfake computes (%s).", st, field, strings.Join(statistics, ", "))
	}
	if ms.Unit != nil && !slices.Contains(validUnits, *ms.Unit) {
		return errorf("InvalidParameterValue", "The value %s for parameter %s.MetricStat.Unit is invalid.", *ms.Unit, field)
	}
	return nil
}

func validPeriod(p int) bool {
	switch p {
	case 1, 5, 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

// runQueryLocked computes one query's datapoints, oldest first unless
// descending.
func (s *Server) runQueryLocked(q cwMetricDataQuery, start, end, now time.Time, descending bool) cwMetricDataResult {
	ms := q.MetricStat
	m := ms.Metric
	period := time.Duration(*ms.Period) * time.Second
	res := cwMetricDataResult{Id: *q.Id, Label: deref(q.Label), Timestamps: []time.Time{}, Values: []float64{}, StatusCode: "Complete"}
	if res.Label == "" {
		res.Label = *m.MetricName
	}
	var dims []dimension
	for _, d := range m.Dimensions {
		dims = append(dims, dimension{deref(d.Name), deref(d.Value)})
	}
	slices.SortFunc(dims, func(a, b dimension) int { return strings.Compare(a.name, b.name) })
	sr, ok := s.metrics[metricKey(*m.Namespace, *m.MetricName, dims)]
	if !ok {
		return res
	}

	age := now.Sub(start)
	switch {
	case age > 63*24*time.Hour && period%time.Hour != 0,
		age > 15*24*time.Hour && period%(5*time.Minute) != 0,
		age > 3*time.Hour && period%time.Minute != 0:
		return res // "no data points in that time range is returned"
	}
	from := roundStart(start, period, age)

	type bucket struct{ count, sum, min, max float64 }
	buckets := map[time.Time]*bucket{}
	for _, p := range sr.points {
		if p.t.Before(from) || !p.t.Before(end) || ms.Unit != nil && p.unit != *ms.Unit {
			continue
		}
		bt := from.Add(p.t.Sub(from) / period * period)
		b, ok := buckets[bt]
		if !ok {
			b = &bucket{min: math.Inf(1), max: math.Inf(-1)}
			buckets[bt] = b
		}
		b.count += p.count
		b.sum += p.sum
		b.min, b.max = math.Min(b.min, p.min), math.Max(b.max, p.maxv)
	}
	times := make([]time.Time, 0, len(buckets))
	for t := range buckets {
		times = append(times, t)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	if descending {
		slices.Reverse(times)
	}
	for _, t := range times {
		b := buckets[t]
		var v float64
		switch *ms.Stat {
		case "Sum":
			v = b.sum
		case "Average":
			v = b.sum / b.count
		case "Minimum":
			v = b.min
		case "Maximum":
			v = b.max
		case "SampleCount":
			v = b.count
		}
		res.Timestamps = append(res.Timestamps, t.UTC())
		res.Values = append(res.Values, v)
	}
	return res
}

// roundStart rounds a query's start time down as CloudWatch does.
func roundStart(start time.Time, period, age time.Duration) time.Time {
	unit := time.Minute
	switch {
	case period < time.Minute:
		unit = period // 1, 5, 10, 20, 30 s: even divisions of a minute
	case age > 63*24*time.Hour:
		unit = time.Hour
	case age > 15*24*time.Hour:
		unit = 5 * time.Minute
	}
	return start.Truncate(unit) // these units divide a day, so the zero time's alignment is the epoch's
}

// listMetrics lists the metrics that had data in the last two weeks (or 3
// hours, with RecentlyActive PT3H), filtered by namespace, name and
// dimensions (a filter without a value matches any value), sorted by
// namespace, name and dimensions, 500 per page. Unlike CloudWatch, a new
// metric is listed at once (CloudWatch may take up to 15 minutes).
func (s *Server) listMetrics(body []byte) (any, *apiError) {
	var in cwListMetricsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.Dimensions) > 10 {
		return nil, errorf("InvalidParameterValue", "The collection Dimensions must not have a size greater than 10.")
	}
	if deref(in.IncludeLinkedAccounts) || in.OwningAccount != nil {
		return nil, errorf("InvalidParameterValue", "awsfake does not model cross-account listing")
	}
	window := 14 * 24 * time.Hour
	switch deref(in.RecentlyActive) {
	case "":
	case "PT3H":
		window = 3 * time.Hour
	default:
		return nil, errorf("InvalidParameterValue", "The value %s for parameter RecentlyActive is invalid.", *in.RecentlyActive)
	}
	offset := 0
	if in.NextToken != nil {
		var ok bool
		if offset, ok = parsePageToken(*in.NextToken); !ok {
			return nil, errorf("InvalidNextToken", "The service returned an invalid next token.")
		}
	}
	now := s.cfg.Now()
	s.mu.Lock()
	var found []*series
	for _, sr := range s.metrics {
		if in.Namespace != nil && sr.namespace != *in.Namespace ||
			in.MetricName != nil && sr.name != *in.MetricName ||
			now.Sub(sr.lastPut) > window || !hasDimensions(sr.dims, in.Dimensions) {
			continue
		}
		found = append(found, sr)
	}
	s.mu.Unlock()
	slices.SortFunc(found, func(a, b *series) int {
		return strings.Compare(metricKey(a.namespace, a.name, a.dims), metricKey(b.namespace, b.name, b.dims))
	})
	out := cwListMetricsOutput{Metrics: []cwMetric{}}
	const pageSize = 500
	for _, sr := range found[min(offset, len(found)):min(offset+pageSize, len(found))] {
		m := cwMetric{Namespace: &sr.namespace, MetricName: &sr.name, Dimensions: []cwDimension{}}
		for _, d := range sr.dims {
			m.Dimensions = append(m.Dimensions, cwDimension{Name: &d.name, Value: &d.value})
		}
		out.Metrics = append(out.Metrics, m)
	}
	if offset+pageSize < len(found) {
		tok := pageToken(offset + pageSize)
		out.NextToken = &tok
	}
	return out, nil
}

// hasDimensions reports whether dims satisfies every filter.
func hasDimensions(dims []dimension, filters []cwDimension) bool {
	for _, f := range filters {
		if !slices.ContainsFunc(dims, func(d dimension) bool {
			return d.name == deref(f.Name) && (f.Value == nil || d.value == *f.Value)
		}) {
			return false
		}
	}
	return true
}
