package main

import (
	"io"
	"os"
)

// isTerminal says whether w is an interactive terminal, where progress is
// redrawn in place and colour is used.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
