// Package statusapi is the daemon's status API and live dashboard: versioned
// JSON under /api/v1/ (status, switches, allocation), the controller's
// events as a Server-Sent Events stream (/api/v1/events), /healthz and
// /readyz, and the dashboard at /ui/ (plain HTML, JS and SVG embedded in
// the binary).
//
// The package knows nothing of switches: the controller feeds it through
// Source (snapshots) and Server.Publish (events), so tests drive it with a
// fake. Every error is JSON with an HTTP status; a panic in a handler
// becomes a 500, never a crash. Client fetches the same documents for
// `p4qos status`.
package statusapi
