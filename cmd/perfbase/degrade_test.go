package main

import "github.com/perfbase/perfbase/internal/demotarget"

func demoDegradation(slowdown float64) demotarget.Degradation {
	return demotarget.Degradation{Slowdown: slowdown}
}
