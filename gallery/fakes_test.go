package gallery

import (
	"context"
	"sync"

	"github.com/picpool/picpool/cache/node"
	"github.com/picpool/picpool/scaling"
)

// memSettings is a SettingsStore in memory.
type memSettings struct {
	mu    sync.Mutex
	s     scaling.Settings
	saved bool
}

func (m *memSettings) LoadSettings(context.Context) (scaling.Settings, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.s, m.saved, nil
}

func (m *memSettings) SaveSettings(_ context.Context, s scaling.Settings) error {
	m.set(s)
	return nil
}

func (m *memSettings) set(s scaling.Settings) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.s, m.saved = s, true
}

// lruConfig is an lru node configuration of mb MiB.
func lruConfig(mb int64) node.Config { return node.Config{Capacity: mb << 20, Policy: "lru"} }
