package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/config"

	"github.com/perfbase/perfbase/dashboards"
)

// grafanaTokenEnv holds the Grafana service account token; it is read from
// the environment (or --grafana-token-file) and never from a flag, so it
// does not show in the process list.
const grafanaTokenEnv = "PERFBASE_GRAFANA_TOKEN"

// DashboardsCmd generates the Grafana dashboards and optionally uploads them.
type DashboardsCmd struct {
	Out              string        `help:"Directory to write the dashboard JSON files to." required:"" type:"path"`
	DatasourceUID    string        `help:"UID of the Prometheus data source the dashboards preselect." name:"datasource-uid"`
	Folder           string        `help:"Grafana folder title to upload into (created if missing)."`
	GrafanaURL       string        `help:"Upload the dashboards to this Grafana through its HTTP API; the token comes from $${PERFBASE_GRAFANA_TOKEN} or --grafana-token-file." name:"grafana-url"`
	GrafanaTokenFile string        `help:"File holding the Grafana service account token." type:"existingfile" name:"grafana-token-file"`
	Timeout          time.Duration `help:"Timeout of the upload." default:"30s"`
}

// Run implements the command.
func (c *DashboardsCmd) Run(g *Globals) error {
	o := dashboards.DefaultOptions()
	o.DatasourceUID = c.DatasourceUID
	ds, err := dashboards.Build(o)
	if err != nil {
		return badInput(err)
	}
	paths, err := dashboards.WriteDir(c.Out, ds)
	if err != nil {
		return failed(err)
	}
	for _, p := range paths {
		fmt.Fprintln(g.Stdout, p)
	}
	if c.GrafanaURL == "" {
		return nil
	}
	token, err := c.token()
	if err != nil {
		return badInput(err)
	}
	up := &dashboards.Uploader{URL: c.GrafanaURL, Token: token, Folder: c.Folder, Client: &http.Client{Timeout: c.Timeout}}
	urls, err := up.Upload(g.Context(), ds)
	for _, u := range urls {
		fmt.Fprintln(g.Stdout, u)
	}
	if err != nil {
		return failed(err)
	}
	g.Logger.Info("dashboards uploaded", "grafana", c.GrafanaURL, "folder", c.Folder, "count", len(urls))
	return nil
}

func (c *DashboardsCmd) token() (config.Secret, error) {
	if c.GrafanaTokenFile != "" {
		b, err := os.ReadFile(c.GrafanaTokenFile)
		if err != nil {
			return "", fmt.Errorf("--grafana-token-file: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			return config.Secret(t), nil
		}
		return "", fmt.Errorf("--grafana-token-file %s is empty", c.GrafanaTokenFile)
	}
	if t := strings.TrimSpace(os.Getenv(grafanaTokenEnv)); t != "" {
		return config.Secret(t), nil
	}
	return "", fmt.Errorf("--grafana-url needs a token: set %s or --grafana-token-file", grafanaTokenEnv)
}
