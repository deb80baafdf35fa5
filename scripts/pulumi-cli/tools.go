//go:build tools

// The binaries this wrapper module builds, besides its own cmd/pulumi-language-nodejs: Pulumi's CLI and the
// Pulumi YAML language host, both fetched from the Go module proxy at the versions go.mod pins.
package tools

import (
	_ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
