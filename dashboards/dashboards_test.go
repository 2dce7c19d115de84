package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/config"

	c "github.com/perfbase/perfbase/internal/conventions"
	"github.com/perfbase/perfbase/internal/testservers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func build(t *testing.T, o Options) []Dashboard {
	t.Helper()
	ds, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 {
		t.Fatalf("Build returned %d dashboards, want 3", len(ds))
	}
	return ds
}

func TestGolden(t *testing.T) {
	t.Parallel()
	o := DefaultOptions()
	o.DatasourceUID = "prometheus"
	for _, d := range build(t, o) {
		got, err := Marshal(d.Dashboard)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", d.File)
		if *update {
			for _, path := range []string{golden, filepath.Join(examplesDir, d.File)} {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./dashboards -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generated dashboard; run go test ./dashboards -update and review the diff", golden)
		}
	}
}

// examplesDir holds the dashboards the Grafana provisioning example loads:
// the golden files, byte for byte, so that what users copy is what the
// tests check.
const examplesDir = "../examples/grafana/dashboards"

func TestExamplesMatchGolden(t *testing.T) {
	t.Parallel()
	if *update {
		t.Skip("TestGolden -update rewrites the examples")
	}
	const regen = "run go test ./dashboards -update (it rewrites the golden files and the examples) and review the diff"
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden dashboards in testdata (%v); %s", err, regen)
	}
	for _, golden := range goldens {
		example := filepath.Join(examplesDir, filepath.Base(golden))
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(example)
		if err != nil {
			t.Errorf("%v; %s", err, regen)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s; %s", example, golden, regen)
		}
	}
	examples, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, example := range examples {
		if _, err := os.Stat(filepath.Join("testdata", filepath.Base(example))); err != nil {
			t.Errorf("%s is not a generated dashboard (no golden file %s); remove it", example, filepath.Join("testdata", filepath.Base(example)))
		}
	}
}

// schemaDir finds ../shared/grafana-jsonschema from the repository.
func schemaTools(t *testing.T) (validator, schemas string) {
	t.Helper()
	for _, root := range []string{os.Getenv("PERFBASE_SHARED"), "../../shared", "/work/shared"} {
		if root == "" {
			continue
		}
		v := filepath.Join(root, "tools", "validate-dashboards.py")
		s := filepath.Join(root, "grafana-jsonschema")
		if _, err := os.Stat(v); err == nil {
			return v, s
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("grafana-jsonschema and validate-dashboards.py not found (set PERFBASE_SHARED)")
	}
	t.Skip("grafana-jsonschema not found; set PERFBASE_SHARED or CI=true")
	return "", ""
}

// TestSchema validates the dashboards against Grafana's JSON schemas with
// the shared validator (python3-jsonschema).
func TestSchema(t *testing.T) {
	t.Parallel()
	validator, schemas := schemaTools(t)
	python := testservers.Need(t, "python3")
	if err := exec.Command(python, "-c", "import jsonschema").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-jsonschema is missing: %v", err)
		}
		t.Skipf("python3-jsonschema is missing: %v", err)
	}
	dir := t.TempDir()
	for name, o := range map[string]Options{"default": DefaultOptions(), "uid": {DatasourceUID: "abc-123", Tags: []string{"perf", "team-a"}}} {
		ds := build(t, o)
		sub := filepath.Join(dir, name)
		paths, err := WriteDir(sub, ds)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, python, append([]string{validator}, paths...)...)
		cmd.Env = append(os.Environ(), "SCHEMA_DIR="+schemas)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("%s: schema check failed: %v\n%s", name, err, out)
		}
	}
	// The validator must be able to fail: a panel with an unknown field.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"title":"x","panels":[{"type":"timeseries","id":1,"bogus":true}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, validator, bad)
	cmd.Env = append(os.Environ(), "SCHEMA_DIR="+schemas)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("validator accepted an invalid dashboard:\n%s", out)
	}
}

// TestQueries checks what the panels ask for: conventions names, the
// variables, $__rate_interval, units and descriptions on every panel.
func TestQueries(t *testing.T) {
	t.Parallel()
	for _, d := range build(t, DefaultOptions()) {
		data, err := Marshal(d.Dashboard)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Templating struct {
				List []struct{ Name string } `json:"list"`
			} `json:"templating"`
			Panels []struct {
				Type, Title, Description string
				FieldConfig              struct {
					Defaults struct{ Unit string } `json:"defaults"`
				} `json:"fieldConfig"`
				Targets []struct{ Expr string } `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		vars := map[string]bool{}
		for _, v := range doc.Templating.List {
			vars[v.Name] = true
		}
		if !vars[varDatasource] || !vars[varInterface] {
			t.Errorf("%s: variables %v lack datasource or interface", d.File, vars)
		}
		for _, p := range doc.Panels {
			if p.Type == "row" {
				continue
			}
			if p.Description == "" || p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: panel %q lacks a description or unit", d.File, p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", d.File, p.Title)
			}
			for _, tg := range p.Targets {
				if !strings.Contains(tg.Expr, c.Namespace+"_") {
					t.Errorf("%s: %q queries no perfbase metric: %s", d.File, p.Title, tg.Expr)
				}
				if strings.Contains(tg.Expr, "rate(") && d.UID == UIDOverview && !strings.Contains(tg.Expr, "[$__rate_interval]") {
					t.Errorf("%s: %q uses a rate without $__rate_interval: %s", d.File, p.Title, tg.Expr)
				}
			}
		}
	}
	for uid, want := range map[string][]string{UIDOverview: {varRunID}, UIDCompare: {varRunA, varRunB}} {
		for _, d := range build(t, DefaultOptions()) {
			if d.UID != uid {
				continue
			}
			data, _ := Marshal(d.Dashboard)
			for _, v := range want {
				if !bytes.Contains(data, []byte(`"name": "`+v+`"`)) || !bytes.Contains(data, []byte("$"+v)) {
					t.Errorf("%s: variable %s is not defined and used", d.File, v)
				}
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"bad uid":   {DatasourceUID: "has space"},
		"empty tag": {Tags: []string{" "}},
	} {
		if _, err := Build(o); err == nil || !strings.Contains(err.Error(), "dashboards: ") {
			t.Errorf("%s: Build() error = %v, want a dashboards: error", name, err)
		}
	}
}

// fakeGrafana records what the uploader sends, as Grafana's API would take it.
type fakeGrafana struct {
	mu         sync.Mutex
	token      string
	folders    map[string]string // title -> uid
	dashboards map[string]map[string]any
	folderOf   map[string]string
	fail       bool
}

// ServeHTTP drops its write errors: they are the client's to see.
func (f *fakeGrafana) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"invalid API key"}`)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/folders":
		var out []map[string]string
		for title, uid := range f.folders {
			out = append(out, map[string]string{"title": title, "uid": uid})
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPost && r.URL.Path == "/api/folders":
		var in struct{ Title string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		uid := "f-" + strings.ToLower(strings.ReplaceAll(in.Title, " ", "-"))
		f.folders[in.Title] = uid
		_ = json.NewEncoder(w).Encode(map[string]string{"uid": uid, "title": in.Title})
	case r.Method == http.MethodPost && r.URL.Path == "/api/dashboards/db":
		if f.fail {
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = io.WriteString(w, `{"message":"version-mismatch","status":"version-mismatch"}`)
			return
		}
		var in struct {
			Dashboard map[string]any `json:"dashboard"`
			FolderUID string         `json:"folderUid"`
			Overwrite bool           `json:"overwrite"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !in.Overwrite {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		uid, _ := in.Dashboard["uid"].(string)
		f.dashboards[uid] = in.Dashboard
		f.folderOf[uid] = in.FolderUID
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "uid": uid, "url": "/d/" + uid + "/x"})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestUpload(t *testing.T) {
	t.Parallel()
	const token = "glsa_secret_token_value"
	ds := build(t, DefaultOptions())
	tests := map[string]struct {
		folder, token string
		existing      map[string]string
		fail          bool
		wantErr       string
		wantFolder    string
	}{
		"new folder":      {folder: "Performance", token: token, wantFolder: "f-performance"},
		"existing folder": {folder: "Perf", token: token, existing: map[string]string{"Perf": "abc"}, wantFolder: "abc"},
		"general folder":  {token: token},
		"bad token":       {folder: "Perf", token: "wrong", wantErr: "HTTP 401: invalid API key"},
		"refused":         {token: token, fail: true, wantErr: "HTTP 412: version-mismatch"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeGrafana{token: token, folders: map[string]string{}, dashboards: map[string]map[string]any{}, folderOf: map[string]string{}, fail: tc.fail}
			for k, v := range tc.existing {
				fake.folders[k] = v
			}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			u := &Uploader{URL: srv.URL + "/", Token: configSecret(tc.token), Folder: tc.folder, Client: srv.Client()}
			urls, err := u.Upload(t.Context(), ds)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Upload error = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), tc.token) {
					t.Fatalf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(urls) != len(ds) || len(fake.dashboards) != len(ds) {
				t.Fatalf("uploaded %d dashboards (%v), want %d", len(fake.dashboards), urls, len(ds))
			}
			for _, d := range ds {
				got := fake.dashboards[d.UID]
				if got == nil || got["title"] == nil {
					t.Fatalf("dashboard %s not received", d.UID)
				}
				if fake.folderOf[d.UID] != tc.wantFolder {
					t.Errorf("dashboard %s saved in folder %q, want %q", d.UID, fake.folderOf[d.UID], tc.wantFolder)
				}
			}
			if !strings.HasPrefix(urls[0], srv.URL+"/d/") {
				t.Errorf("url %q does not point at the fake", urls[0])
			}
		})
	}
}

func TestUploadRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"", "ftp://x", "http://"} {
		u := &Uploader{URL: raw, Token: "t"}
		if _, err := u.Upload(t.Context(), nil); err == nil {
			t.Errorf("Upload accepted URL %q", raw)
		}
	}
}

func configSecret(s string) config.Secret { return config.Secret(s) }
