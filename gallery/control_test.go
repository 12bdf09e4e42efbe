package gallery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/cache/pool"
	"github.com/picpool/picpool/scaling"
)

// funcSettings is a SettingsStore of func fields.
type funcSettings struct {
	load func() (scaling.Settings, bool, error)
	save func(scaling.Settings) error
}

func (f funcSettings) LoadSettings(context.Context) (scaling.Settings, bool, error) { return f.load() }
func (f funcSettings) SaveSettings(_ context.Context, s scaling.Settings) error     { return f.save(s) }

// funcPool is a PoolAdmin of func fields; the ones a test leaves nil
// are not expected to be called.
type funcPool struct {
	resize    func(ctx context.Context, n int) error
	configure func(cfg node.Config) error
}

func (p funcPool) Nodes() int                                       { return 2 }
func (p funcPool) Resize(ctx context.Context, n int) error          { return p.resize(ctx, n) }
func (p funcPool) Configure(_ context.Context, c node.Config) error { return p.configure(c) }
func (p funcPool) Table() pool.Table {
	return pool.Table{Members: []string{"a", "b"}, Config: lruConfig(16)}
}
func (p funcPool) Window(context.Context) node.Counts         { return node.Counts{} }
func (p funcPool) Health(context.Context) []pool.MemberHealth { return nil }
func (p funcPool) Clear(context.Context) error                { return nil }

// TestApplySaysWhatChanged: when storage or the pool fails part-way
// through a change, the answer says "nothing was changed" only when that
// is true, and otherwise what was.
func TestApplySaysWhatChanged(t *testing.T) {
	down := fmt.Errorf("store: dial: %w", ErrUnavailable)
	const nothing = "Storage is unavailable right now; nothing was changed. Please try again in a moment."
	auto := scaling.Auto
	three, eight := 3, int64(8)
	rr := "random"
	tests := []struct {
		name     string
		change   Change
		loads    []error // each LoadSettings call's error, in order; the stored settings are whatever was saved
		saveErr  error
		lands    bool // the failed save wrote the settings anyway
		pool     funcPool
		wantCode Code
		wantMsg  string
	}{
		{
			name: "settings cannot be read", change: Change{Mode: &auto, NumNodes: &three},
			loads: []error{down}, wantCode: Unavailable, wantMsg: nothing,
		},
		{
			name: "the save fails and did not land", change: Change{Mode: &auto, NumNodes: &three},
			loads: []error{nil, nil}, saveErr: down, wantCode: Unavailable, wantMsg: nothing,
		},
		{
			name: "the save fails but landed", change: Change{Mode: &auto, NumNodes: &three},
			loads: []error{nil, nil}, saveErr: down, lands: true, wantCode: Unavailable,
			wantMsg: "The sizing settings were saved, but storage failed right after; the pool itself was not changed. Please try again in a moment.",
		},
		{
			name: "the save fails and cannot be read back", change: Change{Mode: &auto, NumNodes: &three},
			loads: []error{nil, down}, saveErr: down, wantCode: Unavailable,
			wantMsg: "Storage failed while saving the sizing settings: they may or may not have been saved, and the pool itself was not changed. Check them on the manager's page before trying again.",
		},
		{
			name: "the resize fails after the settings were saved", change: Change{Mode: &auto, NumNodes: &three},
			loads: []error{nil}, pool: funcPool{resize: func(context.Context, int) error { return errors.New("no nodes to be had") }}, wantCode: Unavailable,
			wantMsg: "Could not resize the pool to 3 nodes: no nodes to be had. Before that, the sizing settings were saved.",
		},
		{
			name: "the resize fails after settings and nodes changed", change: Change{Mode: &auto, NumNodes: &three, CapacityMB: &eight, CachePolicy: &rr},
			loads: []error{nil},
			pool: funcPool{
				configure: func(node.Config) error { return nil },
				resize:    func(context.Context, int) error { return errors.New("no nodes to be had") },
			},
			wantCode: Unavailable,
			wantMsg:  "Could not resize the pool to 3 nodes: no nodes to be had. Before that, the sizing settings were saved and every node was given 8 MB with RR.",
		},
		{
			name: "configuring fails, nothing saved before", change: Change{CapacityMB: &eight},
			loads: []error{nil}, pool: funcPool{configure: func(node.Config) error { return errors.New("node a refused") }}, wantCode: Unavailable,
			wantMsg: "Could not configure the nodes: node a refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stored scaling.Settings
			saved, calls := false, 0
			settings := funcSettings{
				load: func() (scaling.Settings, bool, error) {
					if calls >= len(tt.loads) {
						t.Errorf("LoadSettings called %d times, want %d", calls+1, len(tt.loads))
						return scaling.Settings{}, false, down
					}
					err := tt.loads[calls]
					calls++
					if err != nil {
						return scaling.Settings{}, false, err
					}
					return stored, saved, nil
				},
				save: func(s scaling.Settings) error {
					if tt.saveErr == nil || tt.lands {
						stored, saved = s, true
					}
					return tt.saveErr
				},
			}
			c := NewControl(tt.pool, settings, slog.New(slog.DiscardHandler))
			_, err := c.Apply(t.Context(), tt.change)
			code, msg := Describe(c.log, err)
			if code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("Apply = %d %q, want %d %q", code, msg, tt.wantCode, tt.wantMsg)
			}
			if calls != len(tt.loads) {
				t.Errorf("LoadSettings called %d times, want %d", calls, len(tt.loads))
			}
		})
	}
}
