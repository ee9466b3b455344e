// Package config reads Sesame's configuration: a YAML file, then SESAME_*
// environment variables, which win (contract.md "Configuration file").
// Durations are parsed once here; Validate reports every problem at once,
// each naming its key.
//
// It does not apply the configuration (package server and cmd/sesame do).
package config
