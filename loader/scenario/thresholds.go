package scenario

// ThresholdsFor returns what the interface called name must achieve: the
// thresholds under ThresholdsAll, each replaced by the interface's own where
// it sets one (a positive value, or a max_dropped). A run's verdict and the
// alert objectives both read thresholds through it, so they never disagree.
// MaxDropped, when set, points into the scenario: do not write through it.
func (s *Scenario) ThresholdsFor(name string) Threshold {
	th := s.Thresholds[ThresholdsAll]
	own, ok := s.Thresholds[name]
	if !ok {
		return th
	}
	override(&th.P50, own.P50)
	override(&th.P90, own.P90)
	override(&th.P95, own.P95)
	override(&th.P99, own.P99)
	override(&th.BusinessSuccess, own.BusinessSuccess)
	override(&th.SystemSuccess, own.SystemSuccess)
	if own.MaxDropped != nil {
		th.MaxDropped = own.MaxDropped
	}
	return th
}

// override sets *dst to v when v is set: zero and below are not checked.
func override[T Duration | float64](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}
