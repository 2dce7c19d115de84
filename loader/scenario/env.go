package scenario

import (
	"fmt"
	"regexp"
	"strings"
)

// expandEnv replaces ${NAME} references in header values and bodies with
// the environment's values, in place, and reports every variable that is not
// set. Validation then judges the values as they will be sent.
//
// A header whose name validation rejects is left alone, and one whose
// variables are not all set is removed: neither is ever sent, and each is
// reported once.
func expandEnv(s *Scenario, lookup func(string) (string, bool), r *reporter) {
	// Every expanded value is a secret to the failure samples.
	env := lookup
	lookup = func(name string) (string, bool) {
		v, ok := env(name)
		if ok && v != "" {
			s.Secrets = append(s.Secrets, v)
		}
		return v, ok
	}
	expandHeaders("defaults.headers", s.Defaults.Headers, lookup, r)
	for i := range s.Interfaces {
		it := &s.Interfaces[i]
		f := fmt.Sprintf("interfaces[%d]", i)
		expandHeaders(f+".headers", it.Headers, lookup, r)
		body, err := expandRefs(it.Body, lookup)
		if err != nil {
			r.errorf(f+".body", "%v", err)
		}
		it.Body = body
	}
	for _, steps := range []struct {
		field string
		steps []Step
	}{{"setup", s.Setup}, {"teardown", s.Teardown}} {
		for i := range steps.steps {
			st := &steps.steps[i]
			f := fmt.Sprintf("%s[%d]", steps.field, i)
			expandHeaders(f+".headers", st.Headers, lookup, r)
			body, err := expandRefs(st.Body, lookup)
			if err != nil {
				r.errorf(f+".body", "%v", err)
			}
			st.Body = body
		}
	}
}

func expandHeaders(field string, h map[string]string, lookup func(string) (string, bool), r *reporter) {
	for k, val := range h {
		if !validHeaderName(k) {
			continue
		}
		x, err := expandRefs(val, lookup)
		if err != nil {
			// The message names the variable, never the value.
			r.errorf(field+"."+k, "%v", err)
			delete(h, k)
			continue
		}
		h[k] = x
	}
}

var reEnvRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandRefs replaces ${NAME} with the environment variable NAME. Anything
// else, a lone $ included, is kept as written, so bodies with dollar signs
// need no escaping.
func expandRefs(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var missing []string
	out := reEnvRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		val, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		return val
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}
