package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/picpool/picpool/scaling"
)

// Retention is how long Metrics keeps samples.
const Retention = 24 * time.Hour

// pruneEvery is how often Record prunes samples older than Retention.
const pruneEvery = time.Minute

// maxPoints bounds one Series query (a week of minutes), so that a wrong range
// cannot allocate without limit.
const maxPoints = 7 * 24 * 60

// Metrics is the "db" metrics backend: cache nodes' samples kept in the
// database for Retention, read back per minute for the charts and the
// autoscaler. It is safe for concurrent use.
type Metrics struct {
	db  *DB
	log *slog.Logger
	now func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
}

var _ scaling.Metrics = (*Metrics)(nil)

// NewMetrics returns the metrics backend on db.
func NewMetrics(db *DB, log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Metrics{db: db, log: log, now: time.Now}
}

// sampleRow is a scaling.Sample in the metric_samples table. Time is Unix
// microseconds: an integer compares, indexes and rounds the same way on
// every database, where timestamp types do not.
type sampleRow struct {
	bun.BaseModel `bun:"table:metric_samples"`

	ID       int64  `bun:"id,pk,autoincrement"`
	Node     string `bun:"node,notnull"`
	Time     int64  `bun:"time,notnull"`
	Items    int64  `bun:"items,notnull"`
	Bytes    int64  `bun:"bytes,notnull"`
	Requests int64  `bun:"requests,notnull"`
	Hits     int64  `bun:"hits,notnull"`
	Misses   int64  `bun:"misses,notnull"`
}

// Record stores samples, and at most once a minute prunes those older
// than Retention (a failed prune is logged: it is retried a minute later).
func (m *Metrics) Record(ctx context.Context, samples []scaling.Sample) error {
	ctx, cancel := m.db.opContext(ctx)
	defer cancel()
	if len(samples) > 0 {
		rows := make([]sampleRow, len(samples))
		for i, s := range samples {
			rows[i] = sampleRow{
				Node: s.Node, Time: s.Time.UnixMicro(),
				Items: s.Items, Bytes: s.Bytes,
				Requests: s.Requests, Hits: s.Hits, Misses: s.Misses,
			}
		}
		if _, err := m.db.bun.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("store: record %d samples: %w", len(samples), m.db.conn.Scrub(err))
		}
	}
	now := m.now()
	m.mu.Lock()
	due := now.Sub(m.lastPrune) >= pruneEvery
	if due {
		m.lastPrune = now
	}
	m.mu.Unlock()
	if due {
		if err := m.Prune(ctx, now.Add(-Retention)); err != nil {
			m.log.Warn("pruning old metric samples failed", "err", err)
		}
	}
	return nil
}

// Prune deletes the samples taken before the given time.
func (m *Metrics) Prune(ctx context.Context, before time.Time) error {
	ctx, cancel := m.db.opContext(ctx)
	defer cancel()
	_, err := m.db.bun.NewDelete().Model((*sampleRow)(nil)).
		Where("? < ?", bun.Ident("time"), before.UnixMicro()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: prune samples before %s: %w", before.UTC().Format(time.RFC3339), m.db.conn.Scrub(err))
	}
	return nil
}

// Series returns one Point per step in [from, to), both truncated to a
// multiple of step since the Unix epoch, oldest first. An interval
// without samples has Reported false. Nodes counts the distinct nodes
// that reported in the interval; Items and Bytes add up each node's last
// sample in it; Requests, Hits and Misses add up every sample. The
// aggregation is done here, in Go, so it is the same on every database.
func (m *Metrics) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]scaling.Point, error) {
	if step < time.Second || step%time.Second != 0 {
		return nil, fmt.Errorf("store: metrics series: step %s is not a whole number of seconds", step)
	}
	from, to = truncate(from, step), truncate(to, step)
	n := int(to.Sub(from) / step)
	if n <= 0 {
		return []scaling.Point{}, nil
	}
	if n > maxPoints {
		return nil, fmt.Errorf("store: metrics series: %d intervals asked, at most %d", n, maxPoints)
	}
	ctx, cancel := m.db.opContext(ctx)
	defer cancel()
	var rows []sampleRow
	err := m.db.bun.NewSelect().Model(&rows).
		Where("? >= ?", bun.Ident("time"), from.UnixMicro()).
		Where("? < ?", bun.Ident("time"), to.UnixMicro()).
		OrderExpr("? ASC, ? ASC", bun.Ident("time"), bun.Ident("id")).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: metrics series: %w", m.db.conn.Scrub(err))
	}
	return aggregate(from, step, n, rows), nil
}

// truncate rounds t down to a multiple of step since the Unix epoch.
func truncate(t time.Time, step time.Duration) time.Time {
	us, stepUS := t.UnixMicro(), step.Microseconds()
	us -= ((us % stepUS) + stepUS) % stepUS
	return time.UnixMicro(us).UTC()
}

// aggregate folds rows, sorted by time, into n intervals of step from
// start.
func aggregate(start time.Time, step time.Duration, n int, rows []sampleRow) []scaling.Point {
	minutes := make([]scaling.Point, n)
	// last[i] holds each node's latest sample in interval i; rows come in
	// time order, so a later row replaces an earlier one.
	last := make([]map[string]sampleRow, n)
	startMicro := start.UnixMicro()
	for i := range minutes {
		minutes[i].Start = start.Add(time.Duration(i) * step)
	}
	for _, r := range rows {
		i := int((r.Time - startMicro) / step.Microseconds())
		if i < 0 || i >= n {
			continue
		}
		mi := &minutes[i]
		mi.Reported = true
		mi.Requests += r.Requests
		mi.Hits += r.Hits
		mi.Misses += r.Misses
		if last[i] == nil {
			last[i] = map[string]sampleRow{}
		}
		last[i][r.Node] = r
	}
	for i, nodes := range last {
		minutes[i].Nodes = len(nodes)
		for _, r := range nodes {
			minutes[i].Items += r.Items
			minutes[i].Bytes += r.Bytes
		}
	}
	return minutes
}
