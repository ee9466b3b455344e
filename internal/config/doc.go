// Package config reads Sesame's configuration: a YAML file, then SESAME_*
// environment variables, which win (docs/configuration.md lists every key).
// Durations are parsed once here. A mistake in the file is reported with
// the file, the line, the key and, for an unknown key, the nearest valid
// one; Validate reports every problem at once, each naming its key.
//
// It does not apply the configuration (package server and cmd/sesame do).
package config
