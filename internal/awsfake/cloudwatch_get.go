package awsfake

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

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
// Datapoints not yet visible (Config.MetricLag) are left out, as
// CloudWatch leaves out what it has not ingested yet. Metric math
// expressions and statistics other than Sum, Average,
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
		if p.t.Before(from) || !p.t.Before(end) || ms.Unit != nil && p.unit != *ms.Unit || p.visible.After(now) {
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
