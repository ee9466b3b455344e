package backchannel

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sesame-id/sesame/internal/activity"
)

// Metrics counts delivery attempts by outcome.
type Metrics struct {
	attempts *prometheus.CounterVec
}

// NewMetrics registers the delivery metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sesame_backchannel_attempts_total",
		Help: "Back-channel logout delivery attempts by result: delivered, retry, failed.",
	}, []string{"result"})}
	reg.MustRegister(m.attempts)
	return m
}

func (m *Metrics) observe(o Outcome) {
	if m == nil {
		return
	}
	switch o {
	case Delivered:
		m.attempts.WithLabelValues("delivered").Inc()
	case Retry:
		m.attempts.WithLabelValues("retry").Inc()
	case Failed:
		m.attempts.WithLabelValues("failed").Inc()
	}
}

// observeActivity counts an attempt for the console's charts by outcome
// and, when it reached out to the app, its latency (the wall time of the
// exchange, whatever clock the Deliverer reads).
func observeActivity(r *activity.Recorder, o Outcome, took time.Duration) {
	switch o {
	case Delivered:
		r.Count(activity.DeliveryDelivered)
	case Retry:
		r.Count(activity.DeliveryRetry)
	case Failed:
		r.Count(activity.DeliveryFailed)
	}
	if took > 0 {
		r.Observe(activity.DeliveryLatency, took.Microseconds())
	}
}
