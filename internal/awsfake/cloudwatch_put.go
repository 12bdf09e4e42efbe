package awsfake

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

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
	visible               time.Time // when GetMetricData starts returning it: put time plus the ingestion lag
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
// or 60, known units. Entity data is not modelled. The data of one call
// become visible together, after Config.MetricLag (and jitter).
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
	visible := now.Add(s.cfg.MetricLag)
	if s.cfg.MetricLagJitter > 0 {
		visible = visible.Add(time.Duration(s.rand.Int64N(int64(s.cfg.MetricLagJitter))))
	}
	for _, b := range batch {
		b.p.visible = visible
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
