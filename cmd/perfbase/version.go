package main

import (
	"fmt"

	"github.com/prometheus/common/version"
)

func init() { version.Version = defaultVersion() }

// defaultVersion is used when the build did not set one with -ldflags.
func defaultVersion() string {
	if version.Version != "" {
		return version.Version
	}
	return "0.1.0-dev"
}

func versionString() string { return version.Print("perfbase") }

// VersionCmd prints version and build information.
type VersionCmd struct {
	Short bool `help:"Print the version number only."`
}

// Run implements the command.
func (c *VersionCmd) Run(g *Globals) error {
	if c.Short {
		fmt.Fprintln(g.Stdout, version.Version)
		return nil
	}
	fmt.Fprintln(g.Stdout, versionString())
	return nil
}
