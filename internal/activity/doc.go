// Package activity keeps the figures of the console's Activity charts
// and draws them: sign-ins and sign-outs per hour, live sessions, and the
// back-channel deliveries' success and latency (issue 15, point 6).
//
// A Recorder counts on the hot paths in memory and flushes once a minute
// (and at Close) into the store's hourly counters, one row per hour and
// measure, kept 30 days by the sweeper (store.CounterRetention): a
// sign-in pays for a map update, never for a write. A crash loses at most
// the last minute of counts; the figures are for charts, not for audit
// (the events, receipts and audit log are the record).
//
// Charts reads the counters of the last 24 hours, 7 days or 30 days and
// returns them as Chart values, which draw themselves as SVG (no script,
// no library: readable at 360 px, with a title, a description and a
// plain table of the same figures for screen readers).
//
// It does not own the events it counts: packages oidc (sign-ins),
// signout and backchannel call the Recorder where they already count for
// Prometheus; the server owns its lifecycle (Start, Close). It serves no
// route: the console renders the charts in its pages.
package activity
