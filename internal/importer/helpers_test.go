package importer_test

import "github.com/prometheus/common/config"

func configDefault() config.HTTPClientConfig { return config.DefaultHTTPClientConfig }
