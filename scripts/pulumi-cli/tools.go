//go:build tools

// The binary this wrapper module builds besides its own cmd/pulumi-language-nodejs: Pulumi's CLI, fetched
// from the Go module proxy at the version go.mod pins (the YAML language host has its own module in yaml/).
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
