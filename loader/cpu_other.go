//go:build !unix

package loader

import "time"

// processCPU is not measured here: the summary reports 0.
func processCPU() time.Duration { return 0 }
