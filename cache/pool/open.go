package pool

import (
	"errors"
	"fmt"
	"strings"

	"github.com/picpool/picpool/cache/node"
)

// ErrOtherProvider is returned by OpenProvider for a spec it does not
// open: a provider that lives elsewhere (the Auto Scaling group's, in
// package scaling).
var ErrOtherProvider = errors.New("cache: not a provider of this package")

// OpenProvider opens the provider that spec names: "local" (nodes with
// opts served in this process; it is closed with the returned func) or
// "static:HOST:PORT,…" (see StaticProvider).
func OpenProvider(spec string, opts node.Options) (Provider, func(), error) {
	switch {
	case spec == "local":
		local, err := NewLocalProvider(LocalOptions{Node: opts})
		if err != nil {
			return nil, nil, err
		}
		return local, func() { local.Close() }, nil
	case strings.HasPrefix(spec, "static:"):
		s, err := ParseStaticProvider(strings.TrimPrefix(spec, "static:"))
		return s, func() {}, err
	}
	return nil, nil, fmt.Errorf("%w: %q", ErrOtherProvider, spec)
}
