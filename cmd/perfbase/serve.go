package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/perfbase/perfbase/exporter"
)

// ServeCmd exposes a saved baseline as Prometheus gauges, so that rules can
// compare live quantiles with it in PromQL.
type ServeCmd struct {
	Baseline string `help:"Baseline file (perfbase baseline save) to serve; reloaded on SIGHUP." required:"" type:"existingfile"`
	Listen   string `help:"Serve /metrics on this address." default:":9102"`
}

// Run implements the command.
func (c *ServeCmd) Run(g *Globals) error {
	s, err := exporter.NewBaselineServer(c.Baseline, g.Logger)
	if err != nil {
		return badInput(err)
	}
	l, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return badInput(fmt.Errorf("--listen: %w", err))
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	g.Logger.Info("serving baseline", "file", c.Baseline, "listen", l.Addr().String(), "interfaces", s.Interfaces())
	if err := s.Serve(g.Context(), l, hup); err != nil {
		return failed(err)
	}
	return nil
}
