package main

import (
	"fmt"

	"github.com/perfbase/perfbase/loader/scenario"
)

// ValidateCmd checks scenario files.
type ValidateCmd struct {
	Files []string `arg:"" name:"scenario" help:"Scenario files to check."`
}

// Run implements the command.
func (c *ValidateCmd) Run(g *Globals) error {
	var bad int
	for _, f := range c.Files {
		s, err := scenario.Load(f)
		if err != nil {
			fmt.Fprintln(g.Stderr, err)
			bad++
			continue
		}
		fmt.Fprintf(g.Stdout, "%s: ok: %s\n", f, s)
	}
	if bad > 0 {
		return badInput(fmt.Errorf("%d of %d scenario files are invalid", bad, len(c.Files)))
	}
	return nil
}
