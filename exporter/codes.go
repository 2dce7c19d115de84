package exporter

import (
	"sync"

	"github.com/perfbase/perfbase/internal/conventions"
)

// boundedCodes maps business codes to counters of one interface, for either
// metrics library. The first MaxBusinessCodes distinct codes get a series
// each and later ones share "other", so a target that echoes request ids as
// codes cannot explode the series count. Known codes take a read lock only.
type boundedCodes[C any] struct {
	mu     sync.RWMutex
	byCode map[string]C
	create func(label string) C
}

func newBoundedCodes[C any](create func(label string) C) *boundedCodes[C] {
	return &boundedCodes[C]{byCode: map[string]C{}, create: create}
}

func (b *boundedCodes[C]) get(code string) C {
	b.mu.RLock()
	c, ok := b.byCode[code]
	b.mu.RUnlock()
	if ok {
		return c
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.byCode[code]; ok {
		return c
	}
	if len(b.byCode) >= conventions.MaxBusinessCodes || len(code) > 64 {
		code = conventions.BusinessCodeOther
		if c, ok := b.byCode[code]; ok {
			return c
		}
	}
	c = b.create(code)
	b.byCode[code] = c
	return c
}
