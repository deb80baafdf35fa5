//go:build tools

// The Pulumi YAML language host, at the version go.mod pins. It has its own module because pulumi-yaml v1.25.0
// (the newest the Go module proxy serves) is built against github.com/pulumi/pulumi/{pkg,sdk}/v3 v3.206.0 and does
// not compile against the v3.248.0 the CLI uses.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
