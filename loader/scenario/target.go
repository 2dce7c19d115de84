package scenario

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// checkTarget checks the base URL every interface path is relative to.
func checkTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("has no host, e.g. http://127.0.0.1:8080")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment; put them in interface paths")
	}
	return nil
}

// URL joins the target and an interface path.
func (s *Scenario) URL(i Interface) string {
	return strings.TrimSuffix(s.Target, "/") + i.Path
}

// RedactedTarget is the target without any user:password part, for logs,
// reports and labels.
func (s *Scenario) RedactedTarget() string {
	u, err := url.Parse(s.Target)
	if err != nil {
		return "<invalid>"
	}
	return u.Redacted()
}

// IsSensitiveHeader reports whether a header's value is a secret that must
// never be printed: credentials, cookies, and anything named like a key or token.
func IsSensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, s := range []string{"token", "secret", "password", "passwd", "api-key", "apikey", "key", "auth", "session", "signature"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
