package analyzer

// glsSeries answers, in constant time, how strongly a segment of a daily
// series supports one change (a step or a ramp) under AR(1) noise.
//
// Days are not independent: a slow day tends to follow a slow day. Under
// AR(1) noise with coefficient phi, the generalised least squares (GLS)
// test of a regressor z against a constant uses the inner product
// <u,v> = u'Qv, Q the tridiagonal precision matrix of a stationary AR(1)
// with unit innovations (1 at both ends and 1+phi^2 inside on the
// diagonal, -phi beside it). With phi = 0 it is the ordinary two-sample
// statistic; with phi near 1 it weighs the day-to-day jump at the change,
// which is what tells a level shift from a slow wander.
//
// A change is a ramp z over [a, b): 0 up to day s, rising linearly to 1 at
// day e, 1 after. A step at k is the ramp s = k-1, e = k. Away from the
// segment's ends and the ramp's kinks, (Qz)_t = (1-phi)^2 z_t, so every
// inner product is (1-phi)^2 times a plain sum (from prefix sums) plus a
// correction at at most four days.
type glsSeries struct {
	x []float64
	// s and ts are prefix sums of x_t and t*x_t.
	s, ts []float64
	phi   float64
	// sigma is the innovation standard deviation.
	sigma float64
}

func newGLSSeries(x []float64, phi, sigma float64) *glsSeries {
	g := &glsSeries{x: x, phi: phi, sigma: sigma, s: make([]float64, len(x)+1), ts: make([]float64, len(x)+1)}
	for i, v := range x {
		g.s[i+1] = g.s[i] + v
		g.ts[i+1] = g.ts[i] + float64(i)*v
	}
	return g
}

// change is the GLS fit of one ramp (or step, e = s+1) in [a, b): its
// statistic (chi-squared with one degree of freedom under the noise model
// when the ramp is fixed in advance), its size in x's units and the level
// before it.
type change struct {
	a, b, s, e        int
	stat, size, level float64
	// pinned: a step held at the edge of the series (see refineSteps).
	pinned bool
}

// seg holds the inner products of the constant with itself and with x
// over [a, b), shared by every ramp tried in that segment.
type seg struct {
	a, b      int
	one, onex float64
}

func (g *glsSeries) seg(a, b int) seg {
	phi := g.phi
	c := (1 - phi) * (1 - phi)
	return seg{a: a, b: b, one: c*float64(b-a) + 2*phi*(1-phi),
		onex: c*(g.s[b]-g.s[a]) + phi*(1-phi)*(g.x[a]+g.x[b-1])}
}

// fit computes the GLS statistic of the ramp (s, e) within the segment,
// a <= s < e <= b-1.
//
// With z_s = 0, z_{s+1} = 1/d (d = e-s) and z_e = z_{b-1} = 1, (Qz)_t
// differs from (1-phi)^2 z_t only at s (by -phi/d), at e (by +phi/d) and
// at b-1 (by +phi(1-phi)); at a it is 0 unless a = s, which is the
// correction at s.
func (g *glsSeries) fit(sg seg, s, e int) change {
	a, b := sg.a, sg.b
	phi := g.phi
	c := (1 - phi) * (1 - phi)
	cb := phi * (1 - phi)
	d := float64(e - s)
	inv := 1 / d
	tail := float64(b - e)
	ramp := (g.ts[e] - g.ts[s+1] - float64(s)*(g.s[e]-g.s[s+1])) * inv
	zx := c*(ramp+g.s[b]-g.s[e]) + phi*inv*(g.x[e]-g.x[s]) + cb*g.x[b-1]
	z1 := c*((d-1)/2+tail) + cb
	zz := c*((d-1)*(2*d-1)/(6*d)+tail) + phi*inv + cb
	num := zx - z1*sg.onex/sg.one
	den := zz - z1*z1/sg.one
	ch := change{a: a, b: b, s: s, e: e, level: sg.onex / sg.one}
	if den <= 1e-12 {
		return ch
	}
	ch.size = num / den
	ch.level = (sg.onex - ch.size*z1) / sg.one
	ch.stat = num * num / (den * g.sigma * g.sigma)
	return ch
}

// bestStep is the strongest step in [a, b) leaving at least m days on
// each side; stat 0 when the segment is too short.
func (g *glsSeries) bestStep(a, b, m int) change {
	best := change{a: a, b: b}
	sg := g.seg(a, b)
	for k := a + m; k <= b-m; k++ {
		if c := g.fit(sg, k-1, k); c.stat > best.stat {
			best = c
		}
	}
	return best
}

// rampDurations are the lengths, in days with data, of the ramps tried:
// from four weeks (shorter transitions are steps) to a year.
var rampDurations = []int{28, 35, 42, 56, 70, 84, 112, 140, 168, 224, 280, 336}

// rampStride is the spacing of ramp starts in the coarse search; the best
// coarse ramp is then refined day by day.
const rampStride = 4

// bestRamp is the strongest ramp of at least minRamp days in [a, b). A
// ramp may start at a (a trend under way when the segment begins) and end
// at b-1 (a trend still under way at its end).
func (g *glsSeries) bestRamp(a, b, minRamp int) change {
	best := change{a: a, b: b}
	if b-a-1 < minRamp {
		return best
	}
	sg := g.seg(a, b)
	try := func(s, e int) {
		if s < a || e > b-1 || e-s < minRamp {
			return
		}
		if c := g.fit(sg, s, e); c.stat > best.stat {
			best = c
		}
	}
	for s := a; s < b-minRamp; s += rampStride {
		for _, d := range rampDurations {
			if d >= minRamp {
				try(s, s+d)
			}
		}
		try(s, b-1)
	}
	for e := a + minRamp; e < b; e += rampStride {
		try(a, e)
	}
	if best.stat == 0 {
		return best
	}
	// coordinate ascent on the start and end, one day at a time
	for range 50 {
		cur := best
		for _, ds := range []int{-1, 1} {
			try(best.s+ds, best.e)
			try(best.s, best.e+ds)
		}
		if best == cur {
			break
		}
	}
	return best
}
