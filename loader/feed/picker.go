package feed

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Order is how a picker hands out rows.
type Order string

// Orders.
const (
	// Sequential hands rows out in file order.
	Sequential Order = "sequential"
	// Random hands out a uniformly random row each time.
	Random Order = "random"
	// Unique hands out each row at most once in the whole run: with n
	// shards, shard i takes rows i-1, i-1+n, i-1+2n... (0-based), so no
	// two loaders ever use the same row.
	Unique Order = "unique"
)

// OnExhausted is what a picker does once its rows are used up.
type OnExhausted string

// What to do once the rows are used.
const (
	// Recycle starts over: sequential and unique wrap around (unique then
	// means unique until the shard's rows are used once).
	Recycle OnExhausted = "recycle"
	// Stop makes Next report exhaustion: the load that needs the data set
	// ends. Random stops after as many draws as the shard has rows.
	Stop OnExhausted = "stop"
)

// Picker hands out row indexes of a data set; safe for concurrent use.
type Picker struct {
	set    *Set
	order  Order
	stop   bool
	first  int // unique: first row of this shard
	stride int // unique: shard count
	share  uint64
	next   atomic.Uint64
	used   atomic.Uint64
	done   atomic.Bool
}

// NewPicker hands out rows of s for shard shardIndex (1-based) of shardCount.
func NewPicker(s *Set, order Order, onEx OnExhausted, shardIndex, shardCount int) (*Picker, error) {
	if shardCount < 1 || shardIndex < 1 || shardIndex > shardCount {
		return nil, fmt.Errorf("feed: shard %d/%d", shardIndex, shardCount)
	}
	p := &Picker{set: s, order: order, stop: onEx == Stop, first: 0, stride: 1, share: uint64(s.Len())}
	switch order {
	case Sequential, Random:
	case Unique:
		p.first, p.stride = shardIndex-1, shardCount
		if p.first >= s.Len() {
			return nil, fmt.Errorf("shard %d/%d has no rows of its own: the data set has %d rows for %d shards", shardIndex, shardCount, s.Len(), shardCount)
		}
		p.share = uint64((s.Len() - p.first + shardCount - 1) / shardCount)
	default:
		return nil, fmt.Errorf("feed: unknown order %q", order)
	}
	switch onEx {
	case Recycle, Stop:
	default:
		return nil, fmt.Errorf("feed: unknown on_exhausted %q", onEx)
	}
	return p, nil
}

// Next returns the next row's index, or false once the rows are used up
// and the picker stops.
func (p *Picker) Next() (int, bool) {
	k := p.next.Add(1) - 1
	if p.stop && k >= p.share {
		p.done.Store(true)
		return 0, false
	}
	p.used.Add(1)
	if p.order == Random {
		return rand.IntN(p.set.Len()), true //nolint:gosec // test data order, not security
	}
	return p.first + int(k%p.share)*p.stride, true
}

// Exhausted reports whether Next has refused a row.
func (p *Picker) Exhausted() bool { return p.done.Load() }

// Used is how many rows Next handed out.
func (p *Picker) Used() uint64 { return p.used.Load() }

// Share is how many rows this shard may hand out before it recycles or
// stops.
func (p *Picker) Share() int { return int(p.share) }

// Set is the data set the picker hands rows of.
func (p *Picker) Set() *Set { return p.set }
