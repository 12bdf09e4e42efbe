package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/store"
)

// Adapters between packages that may not import each other: handlers
// declares what it needs of storage; cache publishes node statistics that
// the metrics backend (scaling's interface) records.

// imageStore adapts store.Library to handlers.ImageStore.
type imageStore struct{ lib *store.Library }

var _ handlers.ImageStore = imageStore{}

func toImage(img store.Image) handlers.Image {
	return handlers.Image{Key: img.Key, ContentType: img.ContentType, Size: img.Size, Version: img.Version, Updated: img.Updated}
}

// storeError maps storage failures to what handlers tell users: a missing
// key, a refused key, or storage that is unavailable right now. Every
// adapter's errors go through it, so that no failure of a backend reaches
// a user as a 500.
func storeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", handlers.ErrNotFound, err)
	case errors.Is(err, store.ErrInvalidKey):
		return &handlers.Error{Code: http.StatusBadRequest, Field: "key", Message: "The storage refused this key."}
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, store.ErrOutcomeUnknown):
		// Its commit failed: it may have taken effect, so "nothing was
		// changed" would not be true.
		return &handlers.Error{Code: http.StatusServiceUnavailable, Message: "Storage failed while saving, so the change may or may not have been made. Please check before trying again."}
	}
	return fmt.Errorf("%w: %w", handlers.ErrUnavailable, err)
}

func (s imageStore) Put(ctx context.Context, key, contentType string, data []byte) (handlers.Image, error) {
	img, err := s.lib.Put(ctx, key, contentType, data)
	return toImage(img), storeError(err)
}

func (s imageStore) Load(ctx context.Context, key string) (handlers.Image, []byte, error) {
	img, data, err := s.lib.Load(ctx, key)
	return toImage(img), data, storeError(err)
}

func (s imageStore) List(ctx context.Context, prefix string, limit, offset int) ([]handlers.Image, int, error) {
	imgs, total, err := s.lib.List(ctx, store.ListOptions{Prefix: prefix, Limit: limit, Offset: offset})
	out := make([]handlers.Image, len(imgs))
	for i, img := range imgs {
		out[i] = toImage(img)
	}
	return out, total, storeError(err)
}

func (s imageStore) Keys(ctx context.Context) ([]string, error) {
	keys, err := s.lib.Keys(ctx)
	return keys, storeError(err)
}

func (s imageStore) DeleteAll(ctx context.Context) error { return storeError(s.lib.DeleteAll(ctx)) }

// settingsStore adapts the database's pool settings to
// handlers.SettingsStore: a database that is down is unavailable (503),
// as for images, not an internal error.
type settingsStore struct{ db *store.DB }

var _ handlers.SettingsStore = settingsStore{}

func (s settingsStore) LoadSettings(ctx context.Context) (scaling.Settings, bool, error) {
	st, ok, err := s.db.LoadSettings(ctx)
	return st, ok, storeError(err)
}

func (s settingsStore) SaveSettings(ctx context.Context, st scaling.Settings) error {
	return storeError(s.db.SaveSettings(ctx, st))
}

// statsSource adapts a metrics backend to handlers.StatsSource: a backend
// that does not answer (the database, or CloudWatch) is unavailable.
type statsSource struct{ metrics scaling.Metrics }

var _ handlers.StatsSource = statsSource{}

func (s statsSource) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]scaling.Point, error) {
	points, err := s.metrics.Series(ctx, from, to, step)
	return points, storeError(err)
}

// statsPublisher adapts a metrics backend to node.StatsPublisher.
type statsPublisher struct{ metrics scaling.Metrics }

func (p statsPublisher) PublishStats(ctx context.Context, s node.Stats) error {
	return p.metrics.Record(ctx, []scaling.Sample{{
		Node: s.Node, Time: s.Time, Items: s.Items, Bytes: s.Bytes,
		Requests: s.Requests, Hits: s.Hits, Misses: s.Misses,
	}})
}

// The pool is what the autoscaler resizes, and the Auto Scaling group is a
// provider of the pool's nodes: checked here, where both packages meet.
var (
	_ scaling.Resizer    = (*pool.Pool)(nil)
	_ pool.Provider      = (*scaling.ASG)(nil)
	_ pool.TableStore    = (*store.DB)(nil)
	_ handlers.PoolAdmin = (*pool.Pool)(nil)
	_ handlers.Cache     = (*pool.Pool)(nil)
)
