// Package server is Sesame's composition root and HTTP front: New builds
// every domain service and handler from the configuration as plain struct
// literals, routes.go lists every path, and middleware.go holds what wraps
// them all (request ids, logging, panic recovery, body limits, CORS where
// the spec allows it, metrics).
//
// It holds no protocol or domain rule; those live in the packages it wires.
package server
